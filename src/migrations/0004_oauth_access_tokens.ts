import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // Access tokens from POST /oauth/token are opaque; only their SHA-256 digest is
  // stored (a leaked table gives no usable token), and the gateway's validation
  // looks them up by it. Revoking the client deletes its tokens (cascade on delete;
  // validation also checks the client is still active).
  yield* sql`
    CREATE TABLE oauth_access_tokens (
      token_digest  TEXT PRIMARY KEY,
      credential_id UUID NOT NULL REFERENCES api_credentials (credential_id) ON DELETE CASCADE,
      store_id      TEXT NOT NULL,
      scopes        TEXT[] NOT NULL,
      expires_at    TIMESTAMPTZ NOT NULL,
      created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
    )`
  // Expired tokens are purged in bulk by expiry.
  yield* sql`CREATE INDEX oauth_access_tokens_expires_idx ON oauth_access_tokens (expires_at)`
  yield* sql`CREATE INDEX oauth_access_tokens_credential_idx ON oauth_access_tokens (credential_id)`
})
