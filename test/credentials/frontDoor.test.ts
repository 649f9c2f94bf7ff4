/**
 * The gateway's hot path: cached, missing and malformed validations are
 * answered by the HTTP server's front door, before any fiber exists, with the
 * very answer the HTTP app gives (status, headers, body); everything else
 * reaches the app as before. And the admin token: one shorter than 32
 * characters (an empty one above all) never lets a request in.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { request } from "node:http"
import { baseUrl, TestApp } from "../support/app.ts"
import { basic, issue, newStoreId, presentHeaders, rawFetch, validate } from "./helpers.ts"

const prefix = `cred-door-${randomUUID().slice(0, 8)}`

/** Status, raw header lines (but Date) and body, as they came over the wire. */
const wire = (path: string, headers: Record<string, string>) =>
  Effect.flatMap(baseUrl, (base) =>
    Effect.async<{ status: number; headers: Array<string>; body: string }, Error>((resume) => {
      const req = request(`${base}${path}`, { headers }, (response) => {
        let body = ""
        response.setEncoding("utf8")
        response.on("data", (chunk) => (body += chunk))
        response.on("end", () => {
          const lines: Array<string> = []
          for (let i = 0; i < response.rawHeaders.length; i += 2) {
            if (response.rawHeaders[i]!.toLowerCase() !== "date") lines.push(`${response.rawHeaders[i]}: ${response.rawHeaders[i + 1]}`)
          }
          resume(Effect.succeed({ status: response.statusCode!, headers: lines, body }))
        })
      })
      req.on("error", (error) => resume(Effect.fail(error)))
      req.end()
    }))

describe("the front door", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, withoutWorkers: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.effect("a cached answer is byte for byte the answer the HTTP app gave when it was cold", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        for (const credential of [yield* issue(storeId), yield* issue(storeId, { type: "OAUTH_CLIENT", scopes: ["orders:read", "catalog:read"] })]) {
          const cold = yield* wire("/credentials/validate", presentHeaders(credential))
          const cached = yield* wire("/credentials/validate", presentHeaders(credential))
          expect(cold.status).toBe(200)
          expect(cached).toEqual(cold)
          expect(cold.headers.slice(0, 3)).toEqual(["cache-control: private, max-age=60", "content-type: application/json", `content-length: ${cold.body.length}`])
          expect(JSON.parse(cold.body)).toMatchObject({ valid: true, credentialId: credential.id })
        }
      }))

    it.effect("the refusals it answers have the headers and bodies they had; a query string changes nothing", () =>
      Effect.gen(function*() {
        const key = yield* issue(newStoreId())
        const missing = yield* wire("/credentials/validate", {})
        expect(missing.status).toBe(400)
        expect(missing.headers.slice(0, 3)).toEqual(["cache-control: no-store", "content-type: application/json", `content-length: ${missing.body.length}`])
        expect(JSON.parse(missing.body)).toEqual({ valid: false, error: "invalid_request", message: "no credential: send Authorization (Bearer or Basic) or X-API-Key" })
        const badChecksum = yield* wire("/credentials/validate", { authorization: `Bearer ${key.secret.slice(0, -1)}${key.secret.endsWith("A") ? "B" : "A"}` })
        expect(badChecksum.status).toBe(400)
        expect(JSON.parse(badChecksum.body).message).toBe("the credential is not well-formed (checksum or format)")
        expect((yield* wire("/credentials/validate?x=1", presentHeaders(key))).status).toBe(200)
        expect((yield* wire("/credentials/validate?x=1", presentHeaders(key))).status).toBe(200)
        // Not exactly the route (another method, a trailing slash): the HTTP app answers, as it did before.
        expect((yield* rawFetch("/credentials/validate", { method: "POST", headers: presentHeaders(key) })).status).toBe(405)
        expect(yield* wire("/credentials/validate/", presentHeaders(key))).toEqual(yield* wire("/credentials/validate", presentHeaders(key)))
      }))

    it.effect("what it cannot answer (a cold credential, a wrong secret, an unknown one) reaches the app: 200 or 401", () =>
      Effect.gen(function*() {
        const client = yield* issue(newStoreId(), { type: "OAUTH_CLIENT" })
        expect((yield* validate({ authorization: basic(client.clientId, `${client.secret.slice(0, 5)}${"0".repeat(38)}`) })).status).toBe(400)
        expect((yield* validate(presentHeaders(client))).status).toBe(200)
        // One character of the secret changed: to "0", or to "1" where it was "0" (a same-character swap would be the right secret).
        const first = client.secret.charAt(5) === "0" ? "1" : "0"
        const wrong = yield* validate({ authorization: basic(client.clientId, `ss3s_${first}${client.secret.slice(6)}`) })
        expect([400, 401]).toContain(wrong.status)
      }))
  })
})

describe("an admin token shorter than 32 characters", () => {
  layer(
    TestApp({ eventTopics: new RegExp(`^${prefix}-empty\\.`), groupId: `${prefix}-empty`, isolatedDatabase: true, withoutWorkers: true, adminToken: "" }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("an empty one lets nothing in: no header, an empty Bearer, Bearer with spaces are all 401", () =>
      Effect.gen(function*() {
        const storeId = newStoreId()
        for (const headers of [{}, { authorization: "Bearer " }, { authorization: "Bearer   " }, { authorization: "Bearer" }]) {
          for (const path of [`/stores/${storeId}/credentials`, `/stores/${storeId}/webhooks`, `/stores/${storeId}/connectors`]) {
            const response = yield* rawFetch(path, { headers })
            expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401)
          }
        }
      }))
  })
})
