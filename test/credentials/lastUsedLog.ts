import { SqlClient } from "@effect/sql/SqlClient"
import { Effect } from "effect"

/**
 * Logs every statement that sets last_used_at (row trigger on `UPDATE OF last_used_at`):
 * which transaction, when (the database's clock), the value written. Installed
 * under a transaction-scoped advisory lock: test files share the database and
 * may install it at the same moment.
 */
export const installLastUsedLog = Effect.gen(function*() {
  const sql = yield* SqlClient
  yield* sql`SELECT pg_advisory_xact_lock(hashtext('last_used_log'))`
  yield* sql`CREATE TABLE IF NOT EXISTS last_used_log (
    credential_id UUID, txid BIGINT, at TIMESTAMPTZ, last_used_at TIMESTAMPTZ)`
  yield* sql.unsafe(`CREATE OR REPLACE FUNCTION log_last_used() RETURNS trigger AS $$
    BEGIN
      INSERT INTO last_used_log VALUES (NEW.credential_id, txid_current(), clock_timestamp(), NEW.last_used_at);
      RETURN NEW;
    END $$ LANGUAGE plpgsql`)
  yield* sql`DROP TRIGGER IF EXISTS last_used_log ON api_credentials`
  yield* sql`CREATE TRIGGER last_used_log AFTER UPDATE OF last_used_at ON api_credentials
             FOR EACH ROW EXECUTE FUNCTION log_last_used()`
}).pipe((install) => Effect.flatMap(SqlClient, (sql) => sql.withTransaction(install)), Effect.orDie)

export const lastUsedLog = (credentialId: string) =>
  Effect.flatMap(SqlClient, (sql) =>
    sql<{ txid: string; at: Date; last_used_at: Date }>`
      SELECT txid::text AS txid, at, last_used_at FROM last_used_log WHERE credential_id = ${credentialId} ORDER BY at`
  ).pipe(Effect.orDie)
