/**
 * A marketplace that answers hostile data (real PostgreSQL and Kafka, a fake
 * SP-API): NUL bytes, lone surrogates and invalid UTF-8 in order fields and in a
 * NextToken, a payload nested 5,000 deep, a 600 KB order, a `__proto__` key, a
 * 2 MB error body. Nothing of it may break a poll's commit: every change is
 * published with values PostgreSQL's text and jsonb can hold, the payloads that
 * cannot be kept are left out (and said so), and the failure is recorded with
 * a storable, bounded summary.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { TestApp } from "../support/app.ts"
import { json } from "./fakeServer.ts"
import { fakeServer } from "./fakeServer.ts"
import { createConfig, pollNow, pollState, putCredentials, SELLER, syncLog, tapImported, TOKEN_PATH, uniqueStore } from "./frameworkHelpers.ts"

const prefix = `connhostile-${randomUUID().slice(0, 8)}`

const order = (id: string, extra: string) =>
  `{"AmazonOrderId":${id},"LastUpdateDate":"2024-05-01T10:00:00Z","OrderStatus":"Shipped\\u0000",${extra}}`

/** Page 1 as raw bytes: JSON escapes for NUL and a lone surrogate, and two bytes that are not UTF-8. */
const hostilePage = () => {
  const deep = `${"[".repeat(5_000)}1${"]".repeat(5_000)}`
  const text = `{"payload":{"NextToken":"tok\\u0000en\\ud800","Orders":[` +
    [
      order(`"114-NUL\\u0000-1"`, `"BuyerName":"\\ud800lone","Note":"bad:@@"`),
      order(`"114-DEEP-2"`, `"Deep":${deep}`),
      order(`"114-BIG-3"`, `"Big":"${"x".repeat(600_000)}"`),
      order(`"114-PROTO-4"`, `"__proto__":{"polluted":true}`)
    ].join(",") + `]}}`
  const bytes = new TextEncoder().encode(text)
  // "@@" becomes 0xFF 0xFE: invalid UTF-8.
  const at = text.indexOf("@@")
  bytes[at] = 0xff
  bytes[at + 1] = 0xfe
  return bytes
}

describe("hostile marketplace answers (real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 90_000
  })((it) => {
    it.scoped("NUL, lone surrogates, invalid UTF-8, deep nesting and huge orders never break a poll's commit", () =>
      Effect.gen(function*() {
        const tap = yield* tapImported
        let mode: "orders" | "error" = "orders"
        const fake = yield* fakeServer((request) => {
          if (request.path === TOKEN_PATH) return json(200, { access_token: "Atza|hostile", expires_in: 3600 })
          if (mode === "error") {
            return { status: 400, body: `bad \u0000 input \ud800 ${"y".repeat(2_000_000)}` }
          }
          if (request.query.get("NextToken") === null) return { status: 200, body: hostilePage() }
          return json(200, { payload: { Orders: [JSON.parse(order(`"114-LAST-5"`, `"Fine":true`))] } })
        })
        const storeId = uniqueStore()
        const config = yield* createConfig(storeId, {
          isActive: false,
          settings: { sellerId: SELLER, baseUrl: fake.url, tokenUrl: `${fake.url}${TOKEN_PATH}`, pollIntervalSeconds: 60 }
        })
        yield* putCredentials(storeId, config.id)

        const polled = yield* pollNow(storeId, config.id)
        expect(polled.status, JSON.stringify(polled.body)).toBe(200)
        expect(polled.body).toEqual({ status: "SUCCEEDED", recordCount: 5, error: null })
        // The NextToken (NUL and lone surrogate included) was checkpointed and sent back.
        const second = fake.requests.filter((r) => r.path === "/orders/v0/orders")[1]!
        expect(second.query.get("NextToken")).toBe("tok\u0000en\ufffd")

        const published = yield* tap.waitFor(config.id, 5)
        expect(published).toHaveLength(5)
        const byId = new Map(published.map((m) => [m.value.data.externalOrderId as string, m.value.data]))
        expect([...byId.keys()]).toEqual(["114-NUL\ufffd-1", "114-DEEP-2", "114-BIG-3", "114-PROTO-4", "114-LAST-5"])
        const nul = byId.get("114-NUL\ufffd-1")!
        expect(nul.status).toBe("Shipped\ufffd")
        expect(nul.order.BuyerName).toBe("\ufffdlone")
        expect(nul.order.Note).toBe("bad:\ufffd\ufffd")
        expect(byId.get("114-DEEP-2")).toMatchObject({ order: null, orderOmitted: "nested deeper than 32 levels" })
        expect(byId.get("114-BIG-3")).toMatchObject({ order: null, orderOmitted: "larger than 524288 bytes" })
        const proto = byId.get("114-PROTO-4")!
        expect(Object.hasOwn(proto.order, "__proto__")).toBe(true)
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
        expect(byId.get("114-LAST-5")!.order.Fine).toBe(true)

        // Every published value is one PostgreSQL's jsonb takes as it is.
        const sql = yield* SqlClient
        for (const message of published) {
          yield* sql`SELECT ${JSON.stringify(message.value)}::jsonb AS v`.pipe(Effect.orDie)
        }
        expect(published.every((m) => JSON.stringify(m.value).length < 600_000)).toBe(true)

        // A 2 MB error body with NUL and a lone surrogate: a FAILED poll, its summary storable and bounded.
        mode = "error"
        const failed = yield* pollNow(storeId, config.id)
        expect(failed.status, JSON.stringify(failed.body).slice(0, 500)).toBe(200)
        expect(failed.body.status).toBe("FAILED")
        expect(failed.body.error).toMatch(/^Rejected: getOrders: HTTP 400: bad \ufffd input \ufffd y+…$/)
        const [latest] = yield* syncLog(storeId, config.id)
        expect(latest!.status).toBe("FAILED")
        expect(latest!.errorSummary).toBe(failed.body.error)
        expect(latest!.errorSummary!.length).toBeLessThanOrEqual(1000)
        expect((yield* pollState(config.id))!.cursor).not.toBeNull()
        expect(fake.errors).toEqual([])
      }))
  })
})
