import { Options } from "@effect/cli"
import { Console, Effect, Option, Schema } from "effect"
import {
  Credential,
  CredentialId,
  CredentialType,
  CredentialWithSecret,
  knownScopes,
  type Scope
} from "../../domain/credentials/models.ts"
import { callAdmin } from "../client.ts"
import { CliError } from "../failures.ts"
import {
  clientCommand, type ClientOptions, commandGroup, decodeOptional, decodeStore, given,
  optionalText, storeOption
} from "../options.ts"
import { recordCallCommand, storeListCommand, storeRecord } from "../commandKit.ts"
import { type Column, createdColumn, formatFields, formatTime, idColumn, printJson, recordFields, truncate } from "../format.ts"

const credentialTypes = CredentialType.literals

/** Printed with every newly issued (or rotated) secret. */
export const shownOnceWarning =
  "WARNING: this secret is shown only now. Store it somewhere safe (a secret manager); it cannot be " +
  "retrieved again — if it is lost, rotate or revoke the credential and issue a new one."

// ---------------------------------------------------------------------------------------------
// credentials issue

export interface IssueCredentialInput extends ClientOptions {
  readonly store: string
  readonly name: string
  readonly type: (typeof credentialTypes)[number]
  readonly scope: ReadonlyArray<Scope>
  readonly expiresAt: Option.Option<string>
  readonly actor: Option.Option<string>
}

export const issueCredential = (input: IssueCredentialInput) =>
  Effect.gen(function*() {
    const storeId = yield* decodeStore(input.store)
    if (input.name.trim() === "") return yield* new CliError({ message: "--name must not be empty" })
    if (input.scope.length === 0) {
      return yield* new CliError({ message: `give at least one --scope (one of ${knownScopes.join(", ")})` })
    }
    const expiresAt = yield* decodeOptional(
      "--expires-at",
      Schema.DateTimeUtc,
      input.expiresAt,
      "an ISO-8601 date-time, e.g. 2025-12-31T23:59:59Z"
    )
    const issued = yield* callAdmin(input, (client) =>
      client.credentials.issue({
        path: { storeId },
        payload: {
          name: input.name,
          type: input.type,
          scopes: [...new Set(input.scope)],
          ...given({ expiresAt })
        },
        headers: Option.match(input.actor, { onNone: () => ({}), onSome: (actor) => ({ "x-ss3-actor": actor }) })
      }))
    if (input.json) {
      // stdout stays one JSON document; the warning goes to stderr.
      yield* printJson(Schema.encodeSync(CredentialWithSecret)(issued))
      return yield* Console.error(shownOnceWarning)
    }
    yield* Console.log(recordFields("credential", issued, [
      ["name", issued.name],
      ["type", issued.type],
      ["client id", issued.clientId],
      ["scopes", issued.scopes.join(" ")],
      ["expires", formatTime(issued.expiresAt)],
      ["created by", issued.createdBy]
    ]))
    yield* Console.log(`\n${formatFields([[issued.type === "API_KEY" ? "api key" : "client secret", issued.secret]])}`)
    yield* Console.log(`\n${shownOnceWarning}`)
  })

const issueCommand = clientCommand(
  "issue",
  {
    store: storeOption,
    name: Options.text("name").pipe(Options.withDescription("What the credential is for, e.g. the integration's name.")),
    type: Options.choice("type", credentialTypes).pipe(
      Options.withDescription("API_KEY (one string, sent as Bearer or X-API-Key) or OAUTH_CLIENT (client id + secret).")
    ),
    scope: Options.choice("scope", knownScopes).pipe(
      Options.repeated,
      Options.withDescription("A scope to grant; repeat for several (at least one).")
    ),
    expiresAt: optionalText("expires-at", "When it stops working: an ISO-8601 date-time in the future. Default: never."),
    actor: optionalText("actor", "Recorded as created_by (sent as X-SS3-Actor). Default: admin-token.")
  },
  issueCredential,
  {
    description: "Issue an API key or OAuth client for a store. The secret is printed once and never again (only its " +
      "bcrypt hash is stored).",
    examples: [
      "credentials issue --store store-1 --name erp --type API_KEY --scope orders:read",
      "credentials issue --store store-1 --name market --type OAUTH_CLIENT --scope catalog:read --expires-at 2027-01-01T00:00:00Z"
    ]
  }
)

// ---------------------------------------------------------------------------------------------
// credentials list

export const credentialColumns: ReadonlyArray<Column<Credential>> = [
  idColumn,
  { header: "NAME", value: (c) => truncate(c.name, 30) },
  { header: "TYPE", value: (c) => c.type },
  { header: "CLIENT ID", value: (c) => c.clientId },
  { header: "SCOPES", value: (c) => truncate(c.scopes.join(","), 60) },
  { header: "ACTIVE", value: (c) => (c.isActive ? "yes" : "no") },
  { header: "EXPIRES", value: (c) => formatTime(c.expiresAt) },
  { header: "LAST USED", value: (c) => formatTime(c.lastUsedAt) },
  createdColumn
]

const listCommand = storeListCommand({
  group: "credentials",
  things: "credentials",
  item: Credential,
  columns: credentialColumns,
  help: {
    description: "List a store's API credentials, newest first (secrets and hashes are never shown).",
    examples: ["credentials list --store store-1", "credentials list --store store-1 --json"]
  }
})

// ---------------------------------------------------------------------------------------------
// credentials revoke

const credentialRecord = storeRecord("credential id", CredentialId, "The credential id (see `credentials list`).")

const revokeCommand = recordCallCommand(credentialRecord, "revoke", {
  call: (client, path) => client.credentials.revoke({ path }),
  answer: Credential,
  text: (revoked) =>
    `revoked credential ${revoked.id} (${revoked.name}, client id ${revoked.clientId}): it stops validating at once`,
  help: {
    description: "Revoke a credential: it stops validating at once on every instance, and its access tokens with it.",
    examples: ["credentials revoke 2a4c6e8f-1b3d-4f5a-9c7e-0d2f4b6a8c1e --store store-1"]
  }
})

export const credentialsCommand = commandGroup(
  "credentials",
  "Issue, list and revoke API credentials (through the admin API at --url).",
  [issueCommand, listCommand, revokeCommand]
)
