import { Clock, Duration, Effect, Option, Schema } from "effect"
import type { ImportedOrder } from "../../../../domain/connectors/events.ts"
import { ConnectorError, type PollPage } from "../../ConnectorAdapter.ts"
import { unexpected } from "../../marketplace/errors.ts"
import { isRecord, str } from "../../marketplace/json.ts"
import { firstLookback, horizonOf } from "../../marketplace/pollWindow.ts"
import { credentialsOf, expectStatus, sellApi } from "./api.ts"
import { type EbayContext, rates } from "./settings.ts"

/**
 * Fulfillment API `getOrders` filtered on `lastmodifieddate:[since..]`, one
 * page (`limit` 50, `offset`) per call.
 *
 * The cursor (ties and lags):
 * - eBay's `lastmodifieddate:[t..]` is inclusive, and several orders can share
 *   a millisecond. The next window starts AT the newest change seen (not just
 *   after it: a later-indexed order with that same timestamp is still fetched),
 *   and the changes at or after that point that were published are listed in
 *   the cursor (`seen`) and skipped when they come back — no repeat, no gap.
 * - The start never moves past `now − settle` (taken when the window's first
 *   page is read): changes newer than that stay in the next window (skipping
 *   those already published), so a change that eBay indexes a little late, or
 *   one made while the window was being paged, is picked up next time.
 * - Between the pages of a window the cursor also carries the `scan`: the next
 *   offset and what is needed to close the window. The poller commits each page
 *   with it, so a window of many pages is read over several polls. An
 *   open-ended window only grows while it is paged (a modified order moves
 *   later, never out of it), so offsets shift orders onto later pages — seen
 *   twice, published once — and never past one unseen.
 * The URLs are built here rather than taken from `next`, so the access token
 * only ever goes to the configured base URL.
 */

/** eBay's default (and the reference's) page size. */
const pageSize = 50
/** A window gives up (and keeps its cursor) rather than page forever: 50,000 changed orders. */
const maxPages = 1_000

const Scan = Schema.Struct({
  offset: Schema.Int,
  pages: Schema.Int,
  /** `now − settle` when the window's first page was read. */
  horizon: Schema.String,
  newest: Schema.String,
  /** The newest change seen of each order at or after the next window's start: [orderId, ISO-8601]. */
  tail: Schema.Array(Schema.Tuple(Schema.String, Schema.String))
})

/**
 * The start of the next window (`lastmodifieddate` ≥ since), the changes at
 * or after it that were already published (`orderId@lastModifiedDate`,
 * normalized ISO-8601), and, inside a window, its scan.
 */
const PollCursor = Schema.parseJson(Schema.Struct({
  since: Schema.String,
  seen: Schema.Array(Schema.String),
  scan: Schema.optional(Scan)
}))

const changeKey = (orderId: string, at: number) => `${orderId}@${new Date(at).toISOString()}`
const iso = (at: number) => new Date(at).toISOString()

interface Position {
  readonly since: number
  readonly seen: ReadonlySet<string>
  readonly scan: { offset: number; pages: number; horizon: number; newest: number; tail: Map<string, number> } | undefined
}

const decodeCursor = (cursor: string) =>
  Effect.gen(function*() {
    const fail = Effect.fail(
      new ConnectorError({ kind: "Misconfigured", message: `getOrders: cursor ${cursor.slice(0, 100)} is not one this connector wrote` })
    )
    // A bare ISO-8601 date (e.g. set by hand): from then on, nothing seen yet.
    if (!cursor.trimStart().startsWith("{")) {
      const at = Date.parse(cursor)
      return Number.isNaN(at) ? yield* fail : { since: at, seen: new Set<string>(), scan: undefined } satisfies Position
    }
    const decoded = Schema.decodeUnknownOption(PollCursor)(cursor)
    if (Option.isNone(decoded)) return yield* fail
    const { since, seen, scan } = decoded.value
    const times = [since, ...(scan ? [scan.horizon, scan.newest, ...scan.tail.map(([, at]) => at)] : [])].map(Date.parse)
    if (times.some(Number.isNaN)) return yield* fail
    return {
      since: Date.parse(since),
      seen: new Set(seen),
      scan: scan === undefined ? undefined : {
        offset: scan.offset,
        pages: scan.pages,
        horizon: Date.parse(scan.horizon),
        newest: Date.parse(scan.newest),
        tail: new Map(scan.tail.map(([id, at]) => [id, Date.parse(at)]))
      }
    } satisfies Position
  })

/** `getOrders` with `filter=lastmodifieddate:[since..]`, eBay's brackets percent-encoded as its docs require. */
const ordersUrl = (context: EbayContext, since: number, offset: number) =>
  `${context.settings.baseUrl.replace(/\/+$/, "")}/sell/fulfillment/v1/order` +
  `?filter=lastmodifieddate:%5B${iso(since)}..%5D&limit=${pageSize}&offset=${offset}`

interface FetchedOrder {
  readonly orderId: string
  readonly at: number
  readonly updatedAt: string
  readonly status: string
  readonly raw: Record<string, unknown>
}

const byTime = (a: { at: number; orderId: string }, b: { at: number; orderId: string }) =>
  a.at - b.at || (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0)

/** A page's orders, one per order (its newest change), oldest first. */
const readOrders = (body: unknown) =>
  Effect.gen(function*() {
    if (!isRecord(body)) return yield* Effect.fail(unexpected("getOrders", "the body is not a JSON object"))
    const orders = Array.isArray(body.orders) ? body.orders : []
    const fetched = new Map<string, FetchedOrder>()
    for (const order of orders) {
      if (!isRecord(order) || typeof order.orderId !== "string" || typeof order.lastModifiedDate !== "string") {
        return yield* Effect.fail(unexpected("getOrders", "an order without orderId or lastModifiedDate"))
      }
      const at = Date.parse(order.lastModifiedDate)
      if (Number.isNaN(at)) {
        return yield* Effect.fail(unexpected("getOrders", `order ${order.orderId.slice(0, 100)}: lastModifiedDate is not a date`))
      }
      const previous = fetched.get(order.orderId)
      if (previous === undefined || previous.at <= at) {
        fetched.set(order.orderId, {
          orderId: order.orderId,
          at,
          updatedAt: order.lastModifiedDate,
          status: str(order.orderFulfillmentStatus),
          raw: order
        })
      }
    }
    const total = typeof body.total === "number" ? body.total : undefined
    const hasNext = typeof body.next === "string" && body.next !== ""
    return { count: orders.length, changes: [...fetched.values()].sort(byTime), total, hasNext }
  })

export const pollOrdersPage = (context: EbayContext, cursor: Option.Option<string>) =>
  Effect.gen(function*() {
    const credentials = yield* credentialsOf(context)
    const now = yield* Clock.currentTimeMillis
    const from: Position = Option.isSome(cursor)
      ? yield* decodeCursor(cursor.value)
      : { since: now - Duration.toMillis(firstLookback), seen: new Set<string>(), scan: undefined }
    const scan = from.scan ?? { offset: 0, pages: 0, horizon: horizonOf(now), newest: from.since, tail: new Map() }
    if (scan.pages >= maxPages) {
      return yield* Effect.fail(
        new ConnectorError({ kind: "Unavailable", message: `getOrders: more than ${maxPages} pages of changed orders` })
      )
    }

    const response = yield* sellApi(context, credentials, {
      method: "GET",
      url: ordersUrl(context, from.since, scan.offset),
      operation: "getOrders",
      ...rates.fulfillment
    })
    yield* expectStatus("getOrders", response, [200])
    const page = yield* readOrders(response.body)

    const records: Array<ImportedOrder> = page.changes
      .filter((o) => !from.seen.has(changeKey(o.orderId, o.at)))
      .map((o) => ({ externalOrderId: o.orderId, updatedAt: o.updatedAt, status: o.status, raw: o.raw }))

    // Where the next window starts so far, and the changes at or after it.
    const newest = page.changes.reduce((max, o) => Math.max(max, o.at), scan.newest)
    const since = Math.max(from.since, Math.min(newest, scan.horizon))
    const tail = new Map<string, number>()
    for (const [orderId, at] of scan.tail) if (at >= since) tail.set(orderId, at)
    for (const o of page.changes) {
      if (o.at >= since && (tail.get(o.orderId) ?? -Infinity) <= o.at) tail.set(o.orderId, o.at)
    }

    const offset = scan.offset + pageSize
    const more = page.count > 0 && (page.hasNext || (page.total !== undefined && offset < page.total))
    if (more) {
      const next = Schema.encodeSync(PollCursor)({
        since: iso(from.since),
        seen: [...from.seen],
        scan: {
          offset,
          pages: scan.pages + 1,
          horizon: iso(scan.horizon),
          newest: iso(newest),
          tail: [...tail].map(([orderId, at]) => [orderId, iso(at)] as const)
        }
      })
      return { entityType: "order", records, cursor: next, more: true } satisfies PollPage
    }
    const seen = [...tail].map(([orderId, at]) => ({ orderId, at })).sort(byTime).map((o) => changeKey(o.orderId, o.at))
    const next = Schema.encodeSync(PollCursor)({ since: iso(since), seen })
    return { entityType: "order", records, cursor: next, more: false } satisfies PollPage
  })

/**
 * A whole catch-up in one answer (`poll`): an order that came on several pages
 * is given once, at its newest change, and the changes oldest first.
 */
export const newestFirstSeen = (records: ReadonlyArray<ImportedOrder>): ReadonlyArray<ImportedOrder> => {
  const newest = new Map<string, { record: ImportedOrder; at: number }>()
  for (const record of records) {
    const at = Date.parse(record.updatedAt)
    const previous = newest.get(record.externalOrderId)
    if (previous === undefined || previous.at <= at) newest.set(record.externalOrderId, { record, at })
  }
  return [...newest.values()]
    .sort((a, b) => byTime({ at: a.at, orderId: a.record.externalOrderId }, { at: b.at, orderId: b.record.externalOrderId }))
    .map((entry) => entry.record)
}
