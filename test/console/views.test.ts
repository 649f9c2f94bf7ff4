/**
 * The ops console's views in real headless Chromium against the real service:
 * deliveries newest first, filtered (status, subscription, time) and paged by
 * the API's cursor, the attempts timeline, connectors with their sync log,
 * credentials revoked; a narrow window; the list's new time filters (API).
 * Delivery rows are written straight into PostgreSQL (no engine runs here).
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { adminFetch, TestApp } from "../support/app.ts"
import { scopedChromium } from "../support/browser.ts"
import { startReceiver } from "../support/receiver.ts"
import { insertAttempt, insertDelivery } from "../webhooks/adminApiHelpers.ts"
import { subscribe, uniqueStore } from "../webhooks/deliveryHelpers.ts"
import { goTo, nothingRan, openConsole, step } from "./consoleHelpers.ts"

const prefix = `console-views-${randomUUID().slice(0, 8)}`
const t0 = Date.parse("2026-03-01T10:00:00.000Z")
const at = (minute: number) => new Date(t0 + minute * 60_000).toISOString()

/** A store with two subscriptions and 30 deliveries, one a minute from t0 (every third FAILED, of subscription B). */
const seeded = Effect.gen(function*() {
  const receiver = yield* startReceiver()
  const storeId = uniqueStore("views")
  const a = yield* subscribe(storeId, `${receiver.url}/a`)
  const b = yield* subscribe(storeId, `${receiver.url}/b`, ["*"])
  const ids: Array<string> = []
  for (let i = 0; i < 30; i++) {
    const failed = i % 3 === 0
    const { id } = yield* insertDelivery({
      subscriptionId: failed ? b.id : a.id,
      storeId,
      status: failed ? "FAILED" : "DELIVERED",
      eventType: i % 2 === 0 ? "order.placed" : "order.updated",
      createdAt: at(i)
    })
    ids.push(id)
  }
  return { storeId, ids, a, b }
})

const idsOf = (body: { items: ReadonlyArray<{ id: string }> }) => body.items.map((d) => d.id)

describe("ops console: views (headless Chromium, real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true, withoutWorkers: true }), {
    excludeTestServices: true,
    timeout: 120_000
  })((it) => {
    it.scoped("deliveries filter by creation time (since inclusive, until exclusive); odd values are a 400 naming the field (API)", () =>
      Effect.gen(function*() {
        const { storeId, ids } = yield* seeded
        const list = (query: string) => adminFetch(`/stores/${storeId}/deliveries?${query}`)
        const window = yield* list(`since=${at(10)}&until=${at(13)}`)
        expect(window.status).toBe(200)
        expect(idsOf(window.body)).toEqual([ids[12], ids[11], ids[10]])
        expect(idsOf((yield* list(`since=${at(28)}`)).body)).toEqual([ids[29], ids[28]])
        expect(idsOf((yield* list(`until=${at(1)}`)).body)).toEqual([ids[0]])
        expect(idsOf((yield* list(`since=${at(10)}&until=${at(13)}&status=FAILED`)).body)).toEqual([ids[12]])
        // Pages of a time window keep to it.
        const first = yield* list(`since=${at(5)}&limit=20`)
        const second = yield* list(`since=${at(5)}&limit=20&cursor=${first.body.nextCursor}`)
        expect([...idsOf(first.body), ...idsOf(second.body)]).toEqual(ids.slice(5).reverse())
        for (const [query, field] of [
          ["since=yesterday", "since"],
          ["until=2026-13-45T00:00:00Z", "until"],
          ["since=2026-03-01T10:00:00Z%00", "since"],
          ["eventType=%3Cscript%3E", "eventType"],
          ["eventType=order.%00placed", "eventType"],
          [`eventType=${"a.".repeat(200)}b`, "eventType"]
        ] as const) {
          const response = yield* list(query)
          expect(response.status, query).toBe(400)
          expect(response.body.message, query).toContain(field)
        }
      }))

    it.scoped("the deliveries view lists newest first, pages older and newer, and filters by status, subscription and time", () =>
      Effect.gen(function*() {
        const { storeId, ids, b } = yield* seeded
        const context = yield* scopedChromium()
        const { page, problems } = yield* openConsole(context, storeId)
        yield* goTo(page, "Deliveries")
        const rows = page.getByRole("region", { name: "Deliveries, newest first" }).locator("tbody tr")
        const createdTimes = () => rows.locator("td:first-child time").evaluateAll((els) => els.map((el) => el.getAttribute("datetime")))
        yield* step(() => expect.poll(() => rows.count()).toBe(25))
        expect(yield* step(createdTimes)).toEqual(Array.from({ length: 25 }, (_, i) => at(29 - i)))
        yield* step(() => page.getByRole("button", { name: "Older" }).click())
        yield* step(() => expect.poll(() => rows.count()).toBe(5))
        expect(yield* step(createdTimes)).toEqual([at(4), at(3), at(2), at(1), at(0)])
        expect(yield* step(() => page.getByRole("button", { name: "Older" }).isDisabled())).toBe(true)
        yield* step(() => page.getByRole("button", { name: "Newer" }).click())
        yield* step(() => expect.poll(() => rows.count()).toBe(25))

        yield* step(() => page.getByLabel("Status").selectOption("FAILED"))
        yield* step(() => page.getByLabel("Subscription").selectOption(b.id))
        yield* step(() => page.getByLabel("Created since").fill("2026-03-01T10:05:00"))
        yield* step(() => page.getByLabel("Created before").fill("2026-03-01T10:20:00"))
        yield* step(() => page.getByRole("button", { name: "Apply filters" }).click())
        // FAILED ones are every third minute: 6, 9, 12, 15, 18.
        yield* step(() => expect.poll(createdTimes).toEqual([at(18), at(15), at(12), at(9), at(6)]))
        expect(yield* step(() => rows.first().textContent())).toContain("FAILED")
        expect(ids.length).toBe(30)
        yield* nothingRan(page, problems)
      }))

    it.scoped("a delivery's attempts show as a timeline: outcome, duration, response excerpt, next retry", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver()
        const storeId = uniqueStore("timeline")
        const sub = yield* subscribe(storeId, `${receiver.url}/hook`)
        const { id } = yield* insertDelivery({ subscriptionId: sub.id, storeId, status: "FAILED", attemptNumber: 2, nextRetryAt: "2099-01-01T00:00:00Z" })
        yield* insertAttempt(id, 1, "2026-03-01T10:00:00Z", null, "connection refused")
        yield* insertAttempt(id, 2, "2026-03-01T10:01:00Z", 503, null)
        const context = yield* scopedChromium()
        const { page, problems } = yield* openConsole(context, storeId)
        yield* goTo(page, "Deliveries")
        yield* step(() => page.getByRole("button", { name: "Attempts" }).click())
        const items = page.getByRole("list", { name: "Attempts, oldest first" }).getByRole("listitem")
        yield* step(() => expect.poll(() => items.count()).toBe(2))
        expect(yield* step(() => items.nth(0).textContent())).toMatch(/Attempt 1.*error: connection refused.*12 ms/)
        expect(yield* step(() => items.nth(1).textContent())).toMatch(/Attempt 2.*HTTP 503.*12 ms.*upstream says no/)
        const region = page.getByRole("region", { name: `Attempts of delivery ${id}` })
        expect(yield* step(() => region.textContent())).toContain("next retry")
        expect(yield* step(() => region.locator('time[datetime="2099-01-01T00:00:00.000Z"]').count())).toBe(1)
        // Closing hands the focus back to the button that opened it.
        yield* step(() => region.getByRole("button", { name: "Close" }).click())
        expect(yield* step(() => page.evaluate<string>("document.activeElement?.textContent ?? ''"))).toBe("Attempts")
        yield* nothingRan(page, problems)
      }))

    it.scoped("connectors show with their sync log; credentials list without secrets and are revoked after a confirmation", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore("conn")
        const created = yield* adminFetch(`/stores/${storeId}/connectors`, {
          method: "POST",
          body: { displayName: "Amazon US", connectorType: "amazon", isActive: false, settings: { sellerId: "A2SELLER1" } }
        })
        expect(created.status, JSON.stringify(created.body)).toBe(201)
        const sql = yield* SqlClient
        yield* sql`
          INSERT INTO connector_sync_log (sync_id, config_id, store_id, direction, entity_type, record_count, status, error_summary, started_at, finished_at)
          VALUES (${randomUUID()}, ${created.body.id}, ${storeId}, 'INBOUND', 'order', 3, 'SUCCEEDED', NULL, now() - interval '2 minutes', now()),
                 (${randomUUID()}, ${created.body.id}, ${storeId}, 'OUTBOUND', 'listing', 0, 'FAILED', 'throttled <b>429</b>', now(), now())`
        const issued = yield* adminFetch(`/stores/${storeId}/credentials`, { method: "POST", body: { name: "erp", type: "OAUTH_CLIENT", scopes: ["orders:read"] } })
        expect(issued.status).toBe(201)

        const context = yield* scopedChromium()
        const { page, problems } = yield* openConsole(context, storeId)
        yield* goTo(page, "Connectors")
        yield* step(() => page.getByRole("button", { name: "Sync log of Amazon US" }).click())
        const log = page.getByRole("region", { name: "Sync log, newest first" }).locator("tbody tr")
        yield* step(() => expect.poll(() => log.count()).toBe(2))
        expect(yield* step(() => log.nth(0).textContent())).toMatch(/OUTBOUND.*listing.*0.*FAILED.*throttled <b>429<\/b>/)
        expect(yield* step(() => log.nth(1).textContent())).toMatch(/INBOUND.*order.*3.*SUCCEEDED/)

        yield* goTo(page, "Credentials")
        yield* step(() => page.getByRole("cell", { name: issued.body.clientId }).waitFor())
        expect(yield* step(() => page.content())).not.toContain(issued.body.secret)
        yield* step(() => page.getByRole("button", { name: "Revoke erp" }).click())
        yield* step(() => page.getByRole("alertdialog").getByRole("button", { name: "Revoke erp" }).click())
        yield* step(() => page.getByRole("status").getByText("erp revoked.").waitFor())
        yield* step(() => page.getByRole("cell", { name: "REVOKED" }).waitFor())
        expect((yield* adminFetch(`/stores/${storeId}/credentials/${issued.body.id}`)).body.isActive).toBe(false)
        yield* nothingRan(page, problems)
      }))

    it.scoped("on a narrow window every view fits its width (tables scroll inside their own box); the keyboard reaches it all", () =>
      Effect.gen(function*() {
        const { storeId } = yield* seeded
        const context = yield* scopedChromium({ width: 360, height: 740 })
        const { page, problems } = yield* openConsole(context, storeId)
        // From the top of a fresh load (still signed in: the tab's sessionStorage): the skip link
        // first, then the views in order, each opened with Enter.
        yield* step(() => page.reload())
        yield* step(() => page.getByRole("heading", { level: 1, name: /^Overview/ }).waitFor())
        const focused = () => page.evaluate<string>("document.activeElement?.textContent ?? ''")
        yield* step(() => page.keyboard.press("Tab"))
        expect(yield* step(focused)).toBe("Skip to content")
        yield* step(() => page.keyboard.press("Tab"))
        yield* step(() => page.keyboard.press("Tab"))
        expect(yield* step(focused)).toBe("Subscriptions")
        yield* step(() => page.keyboard.press("Enter"))
        yield* step(() => page.getByRole("heading", { level: 1, name: /^Subscriptions/ }).waitFor())
        for (const view of ["Overview", "Subscriptions", "Deliveries", "Dead letters", "Connectors", "Credentials"]) {
          yield* goTo(page, view)
          yield* step(() => page.waitForLoadState("networkidle"))
          const overflow = yield* step(() => page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth"))
          expect(overflow, view).toBeLessThanOrEqual(0)
        }
        yield* nothingRan(page, problems)
      }))
  })
})
