/**
 * Shared pieces of the credentials tests: raw requests (any headers), credentials
 * issued through the admin API, validation calls, and the database row as stored.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { credentialKeys } from "../../src/domain/credentials/keys.ts"
import { cryptoPrimitivesNode } from "../../src/layers/CryptoPrimitivesNode.ts"
import { adminFetch, baseUrl } from "../support/app.ts"

/** The credential formats with the service's own CRC32 (node:zlib). */
export const { newSecret, parseApiKey, parseClientCredentials } = credentialKeys(cryptoPrimitivesNode.crc32)

export const newStoreId = (label = "store") => `${label}-${randomUUID().slice(0, 12)}`

export interface RawResponse {
  readonly status: number
  readonly body: any
  readonly text: string
  readonly headers: Headers
}

/** fetch() against the test app with whatever headers and body the test wants. */
export const rawFetch = (
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {}
) =>
  Effect.gen(function*() {
    const base = yield* baseUrl
    const response = yield* Effect.promise(() =>
      fetch(`${base}${path}`, {
        method: init.method ?? "GET",
        headers: init.headers ?? {},
        ...(init.body === undefined ? {} : { body: init.body })
      })
    )
    const text = yield* Effect.promise(() => response.text())
    let body: any = undefined
    try {
      body = text === "" ? undefined : JSON.parse(text)
    } catch {
      body = text
    }
    return { status: response.status, body, text, headers: response.headers } as RawResponse
  })

export interface IssuedCredential {
  readonly id: string
  readonly storeId: string
  readonly name: string
  readonly type: "API_KEY" | "OAUTH_CLIENT"
  readonly clientId: string
  readonly scopes: Array<string>
  readonly isActive: boolean
  readonly expiresAt: string | null
  readonly lastUsedAt: string | null
  readonly createdBy: string
  readonly createdAt: string
  readonly updatedAt: string
  /** API_KEY: the whole key; OAUTH_CLIENT: the client secret. */
  readonly secret: string
}

/** Issues a credential through the admin API (asserting the 201) and returns the answer. */
export const issue = (
  storeId: string,
  body: { name?: string; type?: "API_KEY" | "OAUTH_CLIENT"; scopes?: ReadonlyArray<string>; expiresAt?: string } = {}
) =>
  Effect.gen(function*() {
    const response = yield* adminFetch(`/stores/${storeId}/credentials`, {
      method: "POST",
      body: { name: "erp", type: "API_KEY", scopes: ["orders:read"], ...body }
    })
    expect(response.status, JSON.stringify(response.body)).toBe(201)
    return response.body as IssuedCredential
  })

export const basic = (clientId: string, secret: string) =>
  `Basic ${Buffer.from(`${clientId}:${secret}`, "utf8").toString("base64")}`

/** GET /credentials/validate with the given headers. */
export const validate = (headers: Record<string, string>) => rawFetch("/credentials/validate", { headers })

/** The header that presents a credential the usual way: Bearer for API keys, Basic for OAuth clients. */
export const presentHeaders = (credential: Pick<IssuedCredential, "type" | "clientId" | "secret">) =>
  credential.type === "API_KEY"
    ? { authorization: `Bearer ${credential.secret}` }
    : { authorization: basic(credential.clientId, credential.secret) }

/** The api_credentials row as stored, every column. */
export const credentialRow = (id: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const rows = yield* sql<Record<string, unknown>>`SELECT * FROM api_credentials WHERE credential_id = ${id}`.pipe(Effect.orDie)
    return rows[0]
  })

/** POST /oauth/token with a form body. */
export const tokenRequest = (form: Record<string, string>, headers: Record<string, string> = {}) =>
  rawFetch("/oauth/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString()
  })
