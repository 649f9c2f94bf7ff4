/**
 * The ops console in real headless Chromium against the real service (real
 * PostgreSQL and Kafka): a dead-lettered delivery seen, re-triggered and seen
 * delivered; a bulk replay whose count is confirmed first (and a cancelled one
 * that re-triggers nothing); the attempts timeline.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import type { ServerResponse } from "node:http"
import { adminFetch, TestApp } from "../support/app.ts"
import { scopedChromium } from "../support/browser.ts"
import { eventually } from "../support/eventually.ts"
import { type ReceivedRequest, startReceiver } from "../support/receiver.ts"
import { deliveryRow, driveToDeadLetter, envelope, nextRequest, publishEvents, subscribe, uniqueStore } from "../webhooks/deliveryHelpers.ts"
import { goTo, nothingRan, openConsole, step, viewShown } from "./consoleHelpers.ts"

const prefix = `console-dl-${randomUUID().slice(0, 8)}`
const topic = `${prefix}.orders`

/** A receiver answering `status` (switchable), its body hostile markup. */
const switchableReceiver = (initial: number) =>
  Effect.gen(function*() {
    let status = initial
    const receiver = yield* startReceiver((_: ReceivedRequest, res: ServerResponse) => {
      res.statusCode = status
      res.end(status >= 400 ? "<script>window.__pwned=1</script> failing on purpose" : "ok")
    })
    return { ...receiver, answer: (next: number) => Effect.sync(() => void (status = next)) }
  })

/** `count` events of a new store, each delivered to a failing receiver until dead-lettered: their delivery ids. */
const deadLetters = (count: number) =>
  Effect.gen(function*() {
    const receiver = yield* switchableReceiver(500)
    const storeId = uniqueStore("console")
    yield* subscribe(storeId, `${receiver.url}/hook`)
    yield* publishEvents(topic, Array.from({ length: count }, () => envelope(storeId)))
    const ids: Array<string> = []
    for (let i = 0; i < count; i++) ids.push((yield* nextRequest(receiver.received, "20 seconds")).headers["x-ss3-delivery"] as string)
    for (const id of ids) yield* driveToDeadLetter(id)
    return { storeId, ids, receiver }
  })

const settledAs = (id: string, status: string) =>
  eventually(deliveryRow(id), (row) => row.status === status, "20 seconds")

describe("ops console: dead letters (headless Chromium, real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 120_000
  })((it) => {
    it.scoped("a dead-lettered delivery is listed, its attempts shown as text, re-triggered and seen delivered", () =>
      Effect.gen(function*() {
        const { storeId, ids: [id], receiver } = yield* deadLetters(1)
        yield* receiver.answer(200)
        const context = yield* scopedChromium()
        const { page, problems } = yield* openConsole(context, storeId)
        yield* viewShown(page, "Overview")
        yield* step(() => page.locator("svg.chart").waitFor())
        expect(yield* step(() => page.locator(".legend").textContent())).toContain("Dead-lettered: 1")

        yield* goTo(page, "Dead letters")
        const cell = page.locator(`[data-delivery="${id}"]`)
        yield* step(() => cell.waitFor())
        expect(yield* step(() => cell.textContent())).toBe("DEAD_LETTERED")

        // The timeline: five attempts, the receiver's markup shown as characters.
        yield* step(() => page.getByRole("row").filter({ has: cell }).getByRole("button", { name: "Attempts" }).click())
        const timeline = page.getByRole("list", { name: "Attempts, oldest first" })
        yield* step(() => timeline.waitFor())
        expect(yield* step(() => timeline.getByRole("listitem").count())).toBe(5)
        expect(yield* step(() => timeline.textContent())).toContain("<script>window.__pwned=1</script> failing on purpose")
        expect(yield* step(() => timeline.textContent())).toContain("HTTP 500")
        yield* nothingRan(page, problems)

        yield* step(() => page.getByRole("button", { name: `Re-trigger delivery ${id}` }).click())
        yield* step(() => expect.poll(() => cell.textContent(), { timeout: 20_000 }).toBe("DELIVERED"))
        expect((yield* deliveryRow(id!)).status).toBe("DELIVERED")
        yield* step(() => page.getByRole("status").getByText(`Delivery ${id} is now DELIVERED.`).waitFor())
      }))

    it.scoped("bulk replay counts the matching dead letters first; cancelled, nothing moves; confirmed, all are delivered", () =>
      Effect.gen(function*() {
        const { storeId, ids, receiver } = yield* deadLetters(2)
        yield* receiver.answer(200)
        const context = yield* scopedChromium()
        const { page, problems } = yield* openConsole(context, storeId)
        yield* goTo(page, "Dead letters")
        yield* step(() => page.locator(`[data-delivery="${ids[1]}"]`).waitFor())

        const count = page.getByRole("button", { name: "Count matching deliveries" })
        const confirmation = page.getByRole("alertdialog", { name: "Confirm" })
        yield* step(() => count.click())
        yield* step(() => confirmation.getByText("2 deliveries match this filter.", { exact: false }).waitFor())
        yield* step(() => confirmation.getByRole("button", { name: "Cancel" }).click())
        yield* step(() => page.getByRole("status").getByText("Bulk replay cancelled.").waitFor())
        for (const id of ids) expect((yield* deliveryRow(id)).status).toBe("DEAD_LETTERED")

        yield* step(() => count.click())
        yield* step(() => confirmation.getByRole("button", { name: "Re-trigger 2 deliveries" }).click())
        yield* step(() => page.getByText("2 deliveries re-triggered.").waitFor())
        for (const id of ids) yield* settledAs(id, "DELIVERED")

        // Nothing left to replay: the count says so, no confirmation is asked.
        yield* step(() => count.click())
        yield* step(() => page.getByText("No delivery matches this filter: nothing to replay.").waitFor())
        yield* nothingRan(page, problems)
      }))

    it.scoped("the bulk retry's dry run counts without re-triggering, over the same filter (API)", () =>
      Effect.gen(function*() {
        const { storeId, ids } = yield* deadLetters(1)
        const dry = yield* adminFetch(`/stores/${storeId}/deliveries/retry`, { method: "POST", body: { dryRun: true } })
        expect(dry).toMatchObject({ status: 202, body: { retried: 0, matching: 1 } })
        expect((yield* deliveryRow(ids[0]!)).status).toBe("DEAD_LETTERED")
        const other = yield* adminFetch(`/stores/${storeId}/deliveries/retry`, { method: "POST", body: { dryRun: true, status: "FAILED" } })
        expect(other.body).toEqual({ retried: 0, matching: 0 })
        const bad = yield* adminFetch(`/stores/${storeId}/deliveries/retry`, { method: "POST", body: { dryRun: "yes" } })
        expect(bad.status).toBe(400)
        expect(bad.body.message).toContain("dryRun")
      }))
  })
})
