import { Clock, Duration, Effect, Option, Schema } from "effect"
import type { ImportedOrder } from "../../../../domain/connectors/events.ts"
import { ConnectorError, type PollPage } from "../../ConnectorAdapter.ts"
import { unexpected } from "../../marketplace/errors.ts"
import { firstLookback, horizonOf, isoSeconds } from "../../marketplace/pollWindow.ts"
import { expectSuccess, spApi } from "./api.ts"
import type { AmazonContext, Rate } from "./settings.ts"

/**
 * Orders API v0 `getOrders`: orders updated in a window [after, before],
 * `before` at most `now − 2 min` (Amazon's rule), one page of up to 100 per
 * call, the next page by `NextToken` (a NextToken request carries only
 * `MarketplaceIds` and the token: per the model, the token replaces every
 * other criterion).
 *
 * The cursor:
 * - between windows, the `LastUpdatedBefore` bound of the last window (an
 *   ISO-8601 date): the next window starts exactly there. Amazon's window is
 *   inclusive at both ends and lags (hence the 2-minute rule), so an order that
 *   becomes visible late with an older `LastUpdateDate` is still inside the
 *   next window (a max-seen cursor would skip it), an empty poll still moves
 *   on, and an order updated exactly at the bound comes again with the next
 *   window — a repeat, never a gap (the poller publishes each change once);
 * - inside a window, `{after, before, next}`: the window's bounds and the
 *   NextToken of its next page. The poller commits each page with it, so a
 *   window of thousands of orders is read over as many polls as the rate
 *   allows, resuming where it stopped.
 *
 * A NextToken Amazon no longer accepts (they expire; Amazon answers 400
 * InvalidInput) restarts the window from its start — with its end halved, so
 * that a window too long to be read before its tokens expire gets short enough
 * to be; the other half is the next window. Orders already published come
 * again and are recognised. No gap: the windows still cover every second.
 */

const WindowCursor = Schema.parseJson(Schema.Struct({
  after: Schema.String,
  before: Schema.String,
  next: Schema.optional(Schema.String),
  pages: Schema.optionalWith(Schema.Int, { default: () => 0 })
}))
type WindowCursor = typeof WindowCursor.Type

const OrdersPage = Schema.Struct({
  payload: Schema.Struct({
    NextToken: Schema.optional(Schema.String),
    LastUpdatedBefore: Schema.optional(Schema.String),
    Orders: Schema.Array(Schema.Struct({
      AmazonOrderId: Schema.String,
      LastUpdateDate: Schema.String,
      OrderStatus: Schema.String
    }))
  })
})

/** Pages of one window before it is split (a NextToken chain that never ends is split too). */
const maxPagesPerWindow = 1_000
/** A window that ended this long before the horizon was a catch-up: the next one is read at once. */
const catchUpSlack = Duration.minutes(1)

const encodeCursor = Schema.encodeSync(WindowCursor)

const badCursor = (cursor: string) =>
  new ConnectorError({ kind: "Invalid", message: `getOrders: cursor ${cursor.slice(0, 100)} is not an ISO-8601 date` })

/** Where this page starts: a window to open (plain date, or bounds) or one to continue (a NextToken). */
const readCursor = (cursor: Option.Option<string>, horizon: number) => {
  if (Option.isNone(cursor)) {
    return Effect.succeed<WindowCursor>({ after: isoSeconds(horizon - Duration.toMillis(firstLookback)), before: "", pages: 0 })
  }
  const text = cursor.value
  if (text.trimStart().startsWith("{")) {
    return Schema.decodeUnknown(WindowCursor)(text).pipe(
      Effect.filterOrFail((c) => !Number.isNaN(Date.parse(c.after)) && !Number.isNaN(Date.parse(c.before))),
      Effect.mapError(() => badCursor(text))
    )
  }
  return Number.isNaN(Date.parse(text))
    ? Effect.fail(badCursor(text))
    : Effect.succeed<WindowCursor>({ after: text, before: "", pages: 0 })
}

/** The window restarted from its start, its end halved (to the second); the cursor of that. */
const restartHalved = (window: WindowCursor) => {
  const after = Date.parse(window.after)
  const before = Date.parse(window.before)
  const middle = after + Math.floor((before - after) / 2000) * 1000
  return encodeCursor({ after: window.after, before: middle > after ? isoSeconds(middle) : window.before, pages: 0 })
}

/**
 * The page's changes, each once. `raw` is the order as Amazon sent it (the
 * decoded copy would have lost keys such as `__proto__`, which an object
 * literal takes for its prototype).
 */
const recordsOf = (orders: typeof OrdersPage.Type["payload"]["Orders"], sent: ReadonlyArray<unknown>) => {
  const records: Array<ImportedOrder> = []
  const seen = new Set<string>()
  for (const [i, order] of orders.entries()) {
    const key = `${order.AmazonOrderId}\u0000${order.LastUpdateDate}`
    if (seen.has(key)) continue
    seen.add(key)
    records.push({
      externalOrderId: order.AmazonOrderId,
      updatedAt: order.LastUpdateDate,
      status: order.OrderStatus,
      raw: (sent[i] ?? order) as Readonly<Record<string, unknown>>
    })
  }
  return records
}

export const pollOrdersPage = (rate: Rate) => (context: AmazonContext, cursor: Option.Option<string>) =>
  Effect.gen(function*() {
    const { marketplaceId } = context.settings
    const now = yield* Clock.currentTimeMillis
    const horizon = Math.floor(horizonOf(now) / 1000) * 1000
    const window = yield* readCursor(cursor, horizon)
    const opening = window.next === undefined
    const before = window.before === "" ? isoSeconds(horizon) : window.before
    const current = { ...window, before }

    // A window not yet 2 minutes old (a poll right after the previous one): nothing can be asked yet.
    if (opening && Date.parse(window.after) > Date.parse(before)) {
      return {
        entityType: "order",
        records: [],
        cursor: Option.getOrElse(cursor, () => window.after),
        more: false
      } satisfies PollPage
    }

    const response = yield* spApi(context, {
      method: "GET",
      path: "/orders/v0/orders",
      query: opening
        ? { MarketplaceIds: marketplaceId, LastUpdatedAfter: window.after, LastUpdatedBefore: before, MaxResultsPerPage: "100" }
        : { MarketplaceIds: marketplaceId, NextToken: window.next! },
      operation: "getOrders",
      ...rate
    })
    if (!opening && response.status === 400) {
      yield* Effect.logInfo("Amazon getOrders: NextToken no longer accepted; the window restarts from its start")
      return { entityType: "order", records: [], cursor: restartHalved(current), more: true } satisfies PollPage
    }
    yield* expectSuccess("getOrders", response)
    const page = yield* Schema.decodeUnknown(OrdersPage)(response.body).pipe(
      Effect.mapError((e) => unexpected("getOrders", e))
    )
    const records = recordsOf(page.payload.Orders, (response.body as typeof OrdersPage.Encoded).payload.Orders)
    const next = page.payload.NextToken
    if (next !== undefined && next !== "") {
      if (next === window.next) {
        return yield* Effect.fail(
          new ConnectorError({ kind: "Unavailable", message: "getOrders: the same NextToken came back twice" })
        )
      }
      const pages = current.pages + 1
      const cursorAfter = pages >= maxPagesPerWindow
        ? restartHalved(current)
        : encodeCursor({ after: window.after, before, next, pages })
      return { entityType: "order", records, cursor: cursorAfter, more: true } satisfies PollPage
    }
    // The window is done; a window that ended well before the horizon was a catch-up.
    const more = horizon - Date.parse(before) > Duration.toMillis(catchUpSlack)
    return { entityType: "order", records, cursor: before, more } satisfies PollPage
  })
