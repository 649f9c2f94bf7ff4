/** Throwaway PostgreSQL databases for a benchmark run, dropped by the run's cleanup. */
import pg from "pg"
import { type CleanupScope, registerIn } from "./run.ts"

export const defaultAdminDatabaseUrl = "postgres://postgres@127.0.0.1:5432/postgres"

export const withClient = async <A>(url: string, use: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** `adminUrl` with another database name. */
export const databaseUrl = (adminUrl: string, name: string) => {
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/**
 * Creates database `name` (a fresh, unquoted-safe identifier) through `adminUrl`
 * and registers its drop (WITH (FORCE): connections a crashed child left are cut)
 * in `scope`, or the run's cleanup. Returns its URL.
 */
export const createDatabase = async (adminUrl: string, name: string, scope?: CleanupScope): Promise<string> => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`)
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`))
  registerIn(scope)(`drop database ${name}`, () =>
    withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)))
  return databaseUrl(adminUrl, name)
}
