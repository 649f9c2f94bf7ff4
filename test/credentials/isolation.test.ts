/**
 * Store isolation and who may call what: the credentials admin routes are for
 * the admin token only and never reach another store's credential; an API
 * credential of a store holding `webhooks:manage` manages that store's
 * webhooks and no other's.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { adminFetch, adminToken, TestApp } from "../support/app.ts"
import { basic, credentialRow, issue, newStoreId, presentHeaders, rawFetch, tokenRequest, validate } from "./helpers.ts"

const prefix = `cred-isolation-${randomUUID().slice(0, 8)}`

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const json = (token: string) => ({ ...bearer(token), "content-type": "application/json" })
const subscription = { name: "erp", targetUrl: "https://hooks.example.com/ss3", events: ["order.placed"] }

describe("store isolation and authorization", () => {
  layer(
    TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, withoutWorkers: true }),
    { excludeTestServices: true, timeout: 60_000 }
  )((it) => {
    it.effect("store B cannot list, show, revoke or rotate store A's credential: 404, and nothing changes", () =>
      Effect.gen(function*() {
        const storeA = newStoreId("a")
        const storeB = newStoreId("b")
        const credential = yield* issue(storeA, { type: "API_KEY", scopes: ["orders:read"] })
        const before = yield* credentialRow(credential.id)

        const listB = yield* adminFetch(`/stores/${storeB}/credentials`)
        expect(listB.status).toBe(200)
        expect(listB.body.items).toEqual([])
        for (const [method, path] of [
          ["GET", `/stores/${storeB}/credentials/${credential.id}`],
          ["DELETE", `/stores/${storeB}/credentials/${credential.id}`],
          ["POST", `/stores/${storeB}/credentials/${credential.id}/rotate`]
        ] as const) {
          const response = yield* adminFetch(path, { method })
          expect(response.status, `${method} ${path}`).toBe(404)
          expect(response.body).toEqual({ error: "not_found", message: "credential not found" })
          expect(JSON.stringify(response.body)).not.toContain(credential.clientId)
        }
        // An unknown id in the right store is the same 404.
        expect((yield* adminFetch(`/stores/${storeA}/credentials/${randomUUID()}`)).status).toBe(404)

        const after = yield* credentialRow(credential.id)
        expect(after).toEqual(before)
        expect((yield* validate(presentHeaders(credential))).status).toBe(200)
        const listA = yield* adminFetch(`/stores/${storeA}/credentials`)
        expect(listA.body.items.map((c: { id: string }) => c.id)).toEqual([credential.id])
      }))

    it.effect("an API key of store A with webhooks:manage manages A's webhooks, and gets 403 on store B's", () =>
      Effect.gen(function*() {
        const storeA = newStoreId("a")
        const storeB = newStoreId("b")
        const manager = yield* issue(storeA, { type: "API_KEY", scopes: ["webhooks:manage"] })
        const reader = yield* issue(storeA, { type: "API_KEY", scopes: ["orders:read", "catalog:read"] })
        const inB = yield* adminFetch(`/stores/${storeB}/webhooks`, { method: "POST", body: subscription })
        expect(inB.status).toBe(201)

        const created = yield* rawFetch(`/stores/${storeA}/webhooks`, { method: "POST", headers: json(manager.secret), body: JSON.stringify(subscription) })
        expect(created.status, JSON.stringify(created.body)).toBe(201)
        const listA = yield* rawFetch(`/stores/${storeA}/webhooks`, { headers: bearer(manager.secret) })
        expect(listA.status).toBe(200)
        expect(listA.body.items.map((s: { id: string }) => s.id)).toEqual([created.body.id])

        // Store B's webhooks: every route refused, nothing read or changed.
        for (const [method, path, body] of [
          ["GET", `/stores/${storeB}/webhooks`, undefined],
          ["GET", `/stores/${storeB}/webhooks/${inB.body.id}`, undefined],
          ["POST", `/stores/${storeB}/webhooks`, JSON.stringify(subscription)],
          ["PATCH", `/stores/${storeB}/webhooks/${inB.body.id}`, JSON.stringify({ isActive: false })],
          ["DELETE", `/stores/${storeB}/webhooks/${inB.body.id}`, undefined],
          ["POST", `/stores/${storeB}/webhooks/${inB.body.id}/secret/rotate`, undefined],
          ["GET", `/stores/${storeB}/deliveries`, undefined]
        ] as const) {
          const response = yield* rawFetch(path, { method, headers: json(manager.secret), ...(body ? { body } : {}) })
          expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBe(403)
          expect(response.body.error).toBe("forbidden")
          expect(response.text).not.toContain(inB.body.id)
        }
        const listB = yield* adminFetch(`/stores/${storeB}/webhooks`)
        expect(listB.body.items).toHaveLength(1)
        expect(listB.body.items[0]).toMatchObject({ id: inB.body.id, isActive: true })

        // Without webhooks:manage: 403 even on its own store.
        for (const [method, path] of [["GET", `/stores/${storeA}/webhooks`], ["POST", `/stores/${storeA}/webhooks`]] as const) {
          const response = yield* rawFetch(path, {
            method,
            headers: json(reader.secret),
            ...(method === "POST" ? { body: JSON.stringify(subscription) } : {})
          })
          expect(response.status, `${method} ${path}`).toBe(403)
        }
        // A token obtained by an OAuth client of store A with the scope works the same.
        const client = yield* issue(storeA, { type: "OAUTH_CLIENT", scopes: ["webhooks:manage", "orders:read"] })
        const token = yield* tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(client.clientId, client.secret) })
        expect((yield* rawFetch(`/stores/${storeA}/webhooks`, { headers: bearer(token.body.access_token) })).status).toBe(200)
        expect((yield* rawFetch(`/stores/${storeB}/webhooks`, { headers: bearer(token.body.access_token) })).status).toBe(403)
        // …unless narrowed to scopes without it.
        const narrow = yield* tokenRequest({ grant_type: "client_credentials", scope: "orders:read" }, {
          authorization: basic(client.clientId, client.secret)
        })
        expect((yield* rawFetch(`/stores/${storeA}/webhooks`, { headers: bearer(narrow.body.access_token) })).status).toBe(403)

        // Revoked, unknown or malformed credentials: 401.
        expect((yield* adminFetch(`/stores/${storeA}/credentials/${manager.id}`, { method: "DELETE" })).status).toBe(200)
        expect((yield* rawFetch(`/stores/${storeA}/webhooks`, { headers: bearer(manager.secret) })).status).toBe(401)
        expect((yield* rawFetch(`/stores/${storeA}/webhooks`, { headers: bearer("not-a-credential") })).status).toBe(401)
        expect((yield* rawFetch(`/stores/${storeA}/webhooks`)).status).toBe(401)

        // The admin token works on every store.
        for (const store of [storeA, storeB]) {
          expect((yield* adminFetch(`/stores/${store}/webhooks`)).status).toBe(200)
          expect((yield* adminFetch(`/stores/${store}/credentials`)).status).toBe(200)
        }
      }))

    it.effect("the credentials routes refuse anything but the admin token: 401, nothing issued, revoked or rotated", () =>
      Effect.gen(function*() {
        const storeA = newStoreId("a")
        const manager = yield* issue(storeA, { type: "API_KEY", scopes: ["webhooks:manage", "orders:read"] })
        const client = yield* issue(storeA, { type: "OAUTH_CLIENT", scopes: ["webhooks:manage"] })
        const token = (yield* tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(client.clientId, client.secret) }))
          .body.access_token as string
        const before = yield* credentialRow(manager.id)
        const issueBody = JSON.stringify({ name: "sneaky", type: "API_KEY", scopes: ["webhooks:manage"] })

        const callers: Array<[string, Record<string, string>]> = [
          ["API key with webhooks:manage", bearer(manager.secret)],
          ["access token with webhooks:manage", bearer(token)],
          ["API key in X-API-Key", { "x-api-key": manager.secret }],
          ["Basic client credentials", { authorization: basic(client.clientId, client.secret) }],
          ["the admin token as Basic", { authorization: `Basic ${Buffer.from(`admin:${adminToken}`).toString("base64")}` }],
          ["a wrong admin token", bearer(`${adminToken}x`)],
          ["a prefix of the admin token", bearer(adminToken.slice(0, -1))],
          ["nothing", {}]
        ]
        for (const [label, headers] of callers) {
          for (const [method, path, body] of [
            ["GET", `/stores/${storeA}/credentials`, undefined],
            ["GET", `/stores/${storeA}/credentials/${manager.id}`, undefined],
            ["POST", `/stores/${storeA}/credentials`, issueBody],
            ["DELETE", `/stores/${storeA}/credentials/${manager.id}`, undefined],
            ["POST", `/stores/${storeA}/credentials/${manager.id}/rotate`, undefined]
          ] as const) {
            const response = yield* rawFetch(path, {
              method,
              headers: { ...headers, ...(body ? { "content-type": "application/json" } : {}) },
              ...(body ? { body } : {})
            })
            expect(response.status, `${label}: ${method} ${path}`).toBe(401)
            expect(response.body.error).toBe("unauthorized")
          }
        }
        expect(yield* credentialRow(manager.id)).toEqual(before)
        expect((yield* adminFetch(`/stores/${storeA}/credentials`)).body.items).toHaveLength(2)
        expect((yield* validate(presentHeaders(manager))).status).toBe(200)
      }))

    it.effect("a store id in the path that is not percent-decodable is refused, not a 500", () =>
      Effect.gen(function*() {
        const storeA = newStoreId("a")
        const manager = yield* issue(storeA, { type: "API_KEY", scopes: ["webhooks:manage"] })
        for (const path of [`/stores/%E0%A4%A/webhooks`, `/stores/${storeA}%/webhooks`, `/stores/%ZZ/credentials`]) {
          for (const headers of [bearer(manager.secret), bearer(adminToken)]) {
            const response = yield* rawFetch(path, { headers })
            expect(response.status, `${path} ${JSON.stringify(response.body)}`).toBeGreaterThanOrEqual(400)
            expect(response.status, `${path} ${JSON.stringify(response.body)}`).toBeLessThan(500)
          }
        }
      }))
  })
})
