import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Credential, CredentialId, CredentialWithSecret, IssueCredential } from "../credentials/models.ts"
import { AdminAuth } from "./auth.ts"
import { Conflict, NotFound } from "./errors.ts"
import { actionEndpoint, createEndpoint, guardedBy, listEndpoint, showEndpoint, storeIdParam } from "./groups.ts"

const credentialId = HttpApiSchema.param("id", CredentialId)

/** Who is issuing: the admin panel forwards its user; otherwise the admin token's holder. */
export const ActorHeaders = Schema.Struct({
  "x-ss3-actor": Schema.optional(Schema.String.pipe(Schema.pattern(/^[\w.@:+-]{1,200}$/)))
})

export class CredentialsApi extends HttpApiGroup.make("credentials")
  .add(
    createEndpoint("issue", "credentials", {
      payload: IssueCredential,
      created: CredentialWithSecret,
      summary: "Issue an API key or OAuth client; the answer holds the secret, shown only here"
    }).setHeaders(ActorHeaders)
  )
  .add(listEndpoint("credentials", Credential))
  .add(showEndpoint("credentials", credentialId, Credential))
  .add(
    HttpApiEndpoint.del("revoke")`/stores/${storeIdParam}/credentials/${credentialId}`
      .addSuccess(Credential)
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Revoke (is_active = false): it stops validating at once")
  )
  .add(
    actionEndpoint("rotate", "credentials", credentialId, "rotate", CredentialWithSecret)
      .addError(Conflict)
      .annotate(OpenApi.Summary, "A new secret, returned once; the old one stops working")
  )
  .pipe(guardedBy(AdminAuth, "API credentials"))
{}
