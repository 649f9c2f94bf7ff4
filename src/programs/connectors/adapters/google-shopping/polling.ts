import { Clock, Effect, Option, Schema } from "effect"
import type { ImportedOrder } from "../../../../domain/connectors/events.ts"
import type { HttpOut } from "../../../../services/HttpOut.ts"
import { ConnectorError, type PollPage } from "../../ConnectorAdapter.ts"
import { unexpected } from "../../marketplace/errors.ts"
import { marketplaceUrl } from "../../marketplace/http.ts"
import { googleCall, loadServiceAccount } from "./auth.ts"
import { expectOk } from "./errors.ts"
import { type GoogleContext, rates } from "./settings.ts"
import { emptyStatus, ProductStatus, statusFingerprint, statusSummary } from "./status.ts"

/**
 * Poll: product statuses. Google has no orders in this API; a poll reports the
 * processed products' statuses (approved, pending, disapproved, item-level
 * issues), entity "product_status".
 *
 * Google keeps no time at which a *status* changed, so changes are found by
 * comparison: a scan lists every product (products.list, page by page) and
 * compares each one's status fingerprint with the previous complete scan's
 * (kept in the cursor): INITIAL (first scan), NEW, CHANGED, REMOVED (listed
 * last time, not now). The poller commits each page with a cursor that holds
 * the scan in progress (the page token, what this scan saw so far), so a
 * catalog of many pages is scanned over several polls. A page token Google no
 * longer accepts restarts the scan: the changes it finds again carry the same
 * date (the scan's start) and so are published once.
 */

const Fingerprints = Schema.Record({ key: Schema.String, value: Schema.String })

const Cursor = Schema.parseJson(Schema.Struct({
  v: Schema.Literal(1),
  /** When the previous complete scan started (ISO-8601); absent before the first one completed. */
  at: Schema.optional(Schema.String),
  /** Product key (`{lang}~{label}~{offerId}`) → fingerprint of its status, as of that scan. */
  seen: Schema.optional(Fingerprints),
  /** The scan in progress. */
  scan: Schema.optional(Schema.Struct({
    observedAt: Schema.String,
    pageToken: Schema.optional(Schema.String),
    pages: Schema.Int,
    seen: Fingerprints,
    /** How many products tracked in `scan.seen` were not in the previous scan's. */
    fresh: Schema.Int
  }))
}))
type Cursor = typeof Cursor.Type
type Scan = NonNullable<Cursor["scan"]>

const ListedProduct = Schema.Struct({
  name: Schema.String.pipe(Schema.minLength(1)),
  offerId: Schema.optional(Schema.String),
  contentLanguage: Schema.optional(Schema.String),
  feedLabel: Schema.optional(Schema.String),
  dataSource: Schema.optional(Schema.String),
  productStatus: Schema.optional(Schema.Unknown)
})

const ListProductsResponse = Schema.Struct({
  products: Schema.optionalWith(Schema.Array(ListedProduct), { default: () => [] }),
  nextPageToken: Schema.optional(Schema.String)
})

const pageSize = 250

/** `accounts/1/products/en~US~sku1` → `en~US~sku1` (v1 names; an encoded segment is used as it is). */
const productKey = (name: string) => name.slice(name.lastIndexOf("/") + 1)

export interface ScanLimits {
  /**
   * How many products' status fingerprints the cursor carries (about 30 bytes
   * each). Beyond it, the products not tracked are reported only when their
   * `lastUpdateDate` is newer than the previous scan.
   */
  readonly maxTrackedProducts: number
  /** A guard against a listing that never ends. */
  readonly maxPages: number
}

type Change = "INITIAL" | "NEW" | "CHANGED" | "UPDATED"

const recordOf = (product: typeof ListedProduct.Type, status: ProductStatus, observedAt: string, change: Change) => ({
  externalOrderId: product.name,
  updatedAt: observedAt,
  status: statusSummary(status),
  raw: {
    name: product.name,
    offerId: product.offerId,
    contentLanguage: product.contentLanguage,
    feedLabel: product.feedLabel,
    dataSource: product.dataSource,
    productStatus: product.productStatus ?? null,
    change
  }
}) satisfies ImportedOrder

export const pollStatusPage = (limits: ScanLimits) =>
(
  context: GoogleContext,
  cursor: Option.Option<string>
): Effect.Effect<PollPage, ConnectorError, HttpOut> =>
  Effect.gen(function*() {
    const account = yield* loadServiceAccount(context)
    const { settings } = context
    // A cursor this adapter cannot read (another format, corrupted) starts over: everything is reported once.
    const decoded: Option.Option<Cursor> = Option.flatMap(cursor, Schema.decodeUnknownOption(Cursor))
    const previous = Option.flatMap(decoded, (c) =>
      c.at !== undefined && c.seen !== undefined ? Option.some({ at: c.at, seen: c.seen }) : Option.none())
    const previousCursor = { v: 1 as const, ...Option.getOrElse(previous, () => ({})) }
    const scan: Scan = Option.flatMapNullable(decoded, (c) => c.scan).pipe(
      Option.getOrElse(() => ({ observedAt: "", pages: 0, seen: {}, fresh: 0 }))
    )
    const observedAt = scan.observedAt !== "" ? scan.observedAt : new Date(yield* Clock.currentTimeMillis).toISOString()
    const entityType = "product_status"
    if (scan.pages >= limits.maxPages) {
      return yield* Effect.fail(
        new ConnectorError({ kind: "Invalid", message: `${rates.list.operation}: more than ${limits.maxPages} pages` })
      )
    }

    const response = yield* googleCall(context, account, {
      method: "GET",
      url: marketplaceUrl(settings.baseUrl, `/products/v1/accounts/${settings.accountId}/products`, {
        pageSize: String(pageSize),
        pageToken: scan.pageToken
      }),
      ...rates.list
    })
    if (scan.pageToken !== undefined && response.status === 400) {
      yield* Effect.logInfo("Google products.list: page token no longer accepted; the scan starts over")
      const restarted: Scan = { observedAt, pages: 0, seen: {}, fresh: 0 }
      return { entityType, records: [], cursor: Schema.encodeSync(Cursor)({ ...previousCursor, scan: restarted }), more: true }
    }
    yield* expectOk(rates.list.operation, response)
    const body = yield* Schema.decodeUnknown(ListProductsResponse)(response.body).pipe(
      Effect.mapError((error) => unexpected(rates.list.operation, error))
    )

    // Maps, not objects: a key is data from Google (no prototype lookups).
    const seenBefore = new Map(Option.match(previous, { onNone: () => [], onSome: (p) => Object.entries(p.seen) }))
    const previousAt = Option.map(previous, (p) => Date.parse(p.at))
    const seen = new Map(Object.entries(scan.seen))
    let fresh = scan.fresh
    const records: Array<ImportedOrder> = []
    for (const product of body.products) {
      const key = productKey(product.name)
      if (seen.has(key)) continue // listed twice in one scan
      const status = Schema.decodeUnknownOption(ProductStatus)(product.productStatus ?? {}).pipe(
        Option.getOrElse(() => emptyStatus)
      )
      const print = statusFingerprint(status)
      const before = seenBefore.get(key)
      if (before !== undefined) {
        // Tracked last time: keeps its place, so a full cursor does not churn.
        seen.set(key, print)
        if (before !== print) records.push(recordOf(product, status, observedAt, "CHANGED"))
      } else if (seenBefore.size + fresh < limits.maxTrackedProducts) {
        seen.set(key, print)
        fresh++
        records.push(recordOf(product, status, observedAt, Option.isNone(previous) ? "INITIAL" : "NEW"))
      } else if (Option.isNone(previous)) {
        records.push(recordOf(product, status, observedAt, "INITIAL"))
      } else {
        // Not tracked (the cursor is full): reported when its data changed since the previous scan.
        const updated = status.lastUpdateDate === undefined ? NaN : Date.parse(status.lastUpdateDate)
        if (Option.isSome(previousAt) && updated > previousAt.value) {
          records.push(recordOf(product, status, observedAt, "UPDATED"))
        }
      }
    }

    const next = body.nextPageToken
    if (next !== undefined && next !== "") {
      if (next === scan.pageToken) {
        return yield* Effect.fail(
          new ConnectorError({ kind: "Unavailable", message: `${rates.list.operation}: the same page token twice` })
        )
      }
      const progress: Scan = { observedAt, pageToken: next, pages: scan.pages + 1, seen: Object.fromEntries(seen), fresh }
      return { entityType, records, cursor: Schema.encodeSync(Cursor)({ ...previousCursor, scan: progress }), more: true }
    }
    // The scan is complete: what was tracked last time and is listed no more was removed (or expired).
    for (const key of seenBefore.keys()) {
      if (seen.has(key)) continue
      const name = `accounts/${settings.accountId}/products/${key}`
      records.push({ externalOrderId: name, updatedAt: observedAt, status: "REMOVED", raw: { name, change: "REMOVED" } })
    }
    return {
      entityType,
      records,
      cursor: Schema.encodeSync(Cursor)({ v: 1, at: observedAt, seen: Object.fromEntries(seen) }),
      more: false
    }
  })
