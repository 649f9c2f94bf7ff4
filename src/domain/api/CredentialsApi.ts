import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Credential, CredentialId, CredentialWithSecret, IssueCredential } from "../credentials/models.ts"
import { Items } from "../records.ts"
import { AdminAuth } from "./auth.ts"
import { Conflict, InvalidRequest, NotFound } from "./errors.ts"
import { guardedBy, storeIdParam } from "./groups.ts"
import { strict } from "./payloads.ts"

const credentialId = HttpApiSchema.param("id", CredentialId)

/** Who is issuing: the admin panel forwards its user; otherwise the admin token's holder. */
export const ActorHeaders = Schema.Struct({
  "x-ss3-actor": Schema.optional(Schema.String.pipe(Schema.pattern(/^[\w.@:+-]{1,200}$/)))
})

export class CredentialsApi extends HttpApiGroup.make("credentials")
  .add(
    HttpApiEndpoint.post("issue")`/stores/${storeIdParam}/credentials`
      .setPayload(strict(IssueCredential))
      .setHeaders(ActorHeaders)
      .addSuccess(CredentialWithSecret, { status: 201 })
      .addError(InvalidRequest)
      .annotate(OpenApi.Summary, "Issue an API key or OAuth client; the answer holds the secret, shown only here")
  )
  .add(HttpApiEndpoint.get("list")`/stores/${storeIdParam}/credentials`.addSuccess(Items(Credential)))
  .add(HttpApiEndpoint.get("show")`/stores/${storeIdParam}/credentials/${credentialId}`.addSuccess(Credential).addError(NotFound))
  .add(
    HttpApiEndpoint.del("revoke")`/stores/${storeIdParam}/credentials/${credentialId}`
      .addSuccess(Credential)
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Revoke (is_active = false): it stops validating at once")
  )
  .add(
    HttpApiEndpoint.post("rotate")`/stores/${storeIdParam}/credentials/${credentialId}/rotate`
      .addSuccess(CredentialWithSecret)
      .addError(NotFound)
      .addError(Conflict)
      .annotate(OpenApi.Summary, "A new secret, returned once; the old one stops working")
  )
  .pipe(guardedBy(AdminAuth, "API credentials"))
{}
