import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // Revocation must be final even against requests racing it: revoke and rotate
  // raise a credential's generation, what an instance caches is bound to the
  // generation it read, and an access token to the generation its client was
  // verified under. A token minted while a rotation commits carries the old
  // generation and never validates; the NOTIFY of a change carries the new one.
  yield* sql`ALTER TABLE api_credentials ADD COLUMN generation INTEGER NOT NULL DEFAULT 1`
  yield* sql`ALTER TABLE oauth_access_tokens ADD COLUMN credential_generation INTEGER NOT NULL DEFAULT 1`
})
