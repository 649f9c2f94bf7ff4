/**
 * Google Shopping: the Google Merchant API v1 (the Content API for Shopping
 * v2.1 is being shut down).
 *
 * - Auth: a service account, the OAuth 2.0 JWT bearer grant (RFC 7523): an
 *   RS256 JWT `{iss: client_email, scope: …/auth/content, aud: tokenUrl, iat,
 *   exp: iat + 3600}` is exchanged at `tokenUrl` for an access token, cached
 *   in the config's token cache and sent as `Authorization: Bearer …`.
 * - Outbound: `product.updated` → `productInputs:insert` into the config's API
 *   data source (an insert replaces the input with the same contentLanguage,
 *   feedLabel and offerId: every field we know is sent each time).
 * - Inbound: Google has no orders in this API; the poll reports the processed
 *   products' statuses (approved, pending, disapproved, item-level issues),
 *   entity "product_status" — see `poll` below for how changes are detected.
 *
 * Field names follow googleapis/googleapis
 * google/shopping/merchant/products/v1/{productinputs,products,products_common}.proto
 * (v1 says `productAttributes`; v1beta said `attributes`).
 */
import { Clock, Duration, Effect, Option, ParseResult, Redacted, Schema } from "effect"
import { ProductUpdated } from "../../../domain/connectors/events.ts"
import type { ImportedOrder } from "../../../domain/connectors/events.ts"
import type { EventEnvelope } from "../../../domain/EventEnvelope.ts"
import type { HttpOut } from "../../../services/HttpOut.ts"
import { type ConnectorAdapter, type ConnectorContext, ConnectorError, type PollOutcome } from "../ConnectorAdapter.ts"
import { marketplaceCall, type MarketplaceRequest, type MarketplaceResponse, rejected, requireCredential } from "../marketplaceHttp.ts"
import { PollIntervalSeconds } from "../settings.ts"

// ---------------------------------------------------------------------------
// Settings

const absoluteHttpUrl = Schema.String.pipe(
  Schema.filter((s) => {
    try {
      const url = new URL(s)
      return url.protocol === "https:" || url.protocol === "http:" || "must be an http(s) URL"
    } catch {
      return "must be an absolute URL"
    }
  })
)

export const GoogleSettings = Schema.Struct({
  /** The Merchant Center account id (`accounts/{accountId}`). */
  accountId: Schema.String.pipe(
    Schema.pattern(/^[0-9]{1,20}$/, { message: () => "must be the Merchant Center account id (digits only)" })
  ),
  /** The API data source products are inserted into (`accounts/{a}/dataSources/{dataSourceId}`). */
  dataSourceId: Schema.String.pipe(
    Schema.pattern(/^[A-Za-z0-9_-]{1,64}$/, { message: () => "must be the data source id (e.g. 104628)" })
  ),
  baseUrl: Schema.optionalWith(absoluteHttpUrl, { default: () => "https://merchantapi.googleapis.com" }),
  tokenUrl: Schema.optionalWith(absoluteHttpUrl, { default: () => "https://oauth2.googleapis.com/token" }),
  /** ISO 639-1, part of the product's key. */
  contentLanguage: Schema.optionalWith(
    Schema.String.pipe(Schema.pattern(/^[a-z]{2}$/, { message: () => "must be a two-letter ISO 639-1 code, e.g. en" })),
    { default: () => "en" }
  ),
  /** Part of the product's key: up to 20 of A-Z, 0-9, hyphen, underscore. */
  feedLabel: Schema.optionalWith(
    Schema.String.pipe(Schema.pattern(/^[A-Z0-9_-]{1,20}$/, { message: () => "must be 1-20 of A-Z, 0-9, - and _" })),
    { default: () => "US" }
  ),
  pollIntervalSeconds: PollIntervalSeconds
})
export type GoogleSettings = typeof GoogleSettings.Type

// ---------------------------------------------------------------------------
// Rates (client-side throttle buckets). Google publishes per-minute/per-day
// quotas per project rather than per-second rates; these stay well inside the
// defaults, and a quota error is backed off by `marketplaceCall`.

const rates = {
  token: { operation: "google.oauth2.token", ratePerSecond: 2, burst: 5 },
  insert: { operation: "google.productInputs.insert", ratePerSecond: 10, burst: 20 },
  list: { operation: "google.products.list", ratePerSecond: 5, burst: 10 }
} as const

const scope = "https://www.googleapis.com/auth/content"
const tokenLifetimeSeconds = 3600
const pageSize = 250

// ---------------------------------------------------------------------------
// Errors

interface GoogleErrorBody {
  readonly error?: unknown
  readonly error_description?: unknown
}

const asRecord = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined

const shorten = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…` : text)

/**
 * Google's message: `{"error": {"code", "message", "status"}}` from the APIs,
 * `{"error": "invalid_grant", "error_description"}` from the token endpoint.
 */
const describeGoogleError = (response: MarketplaceResponse): string => {
  const body = asRecord(response.body) as GoogleErrorBody | undefined
  const error = body?.error
  const structured = asRecord(error)
  if (structured !== undefined) {
    const parts = [structured.status, structured.message].filter((p): p is string => typeof p === "string" && p !== "")
    if (parts.length > 0) return parts.join(": ")
  }
  if (typeof error === "string") {
    return typeof body?.error_description === "string" ? `${error}: ${body.error_description}` : error
  }
  const text = response.text.trim()
  return text === "" ? `HTTP ${response.status}` : shorten(text)
}

/** Reasons in the legacy `errors[].reason` and in `google.rpc.ErrorInfo` details. */
const errorReasons = (response: MarketplaceResponse): Array<string> => {
  const error = asRecord(asRecord(response.body)?.error)
  if (error === undefined) return []
  const lists = [error.errors, error.details].filter(Array.isArray) as Array<Array<unknown>>
  return lists.flat().map((item) => asRecord(item)?.reason).filter((r): r is string => typeof r === "string")
}

const quotaPattern = /quota\/(request_rate_too_high|daily_limit_exceeded)|RATE_LIMIT_EXCEEDED|rateLimitExceeded/

/**
 * Quota errors: 429 is handled by `marketplaceCall` itself; Google also names
 * them with `RESOURCE_EXHAUSTED` and the `quota/request_rate_too_high`,
 * `quota/daily_limit_exceeded` reasons, whatever the status. A daily limit is
 * retried a few times here, then goes back on the durable retry table.
 */
const isQuotaError = (response: MarketplaceResponse): boolean => {
  if (response.status < 400 || response.status >= 500) return false
  const error = asRecord(asRecord(response.body)?.error)
  if (error?.status === "RESOURCE_EXHAUSTED") return true
  if (typeof error?.message === "string" && quotaPattern.test(error.message)) return true
  return errorReasons(response).some((reason) => quotaPattern.test(reason))
}

/** 2xx passes; 401/403 are the account's setup (key, permissions); other 4xx carry Google's message. */
const expectOk = (operation: string, response: MarketplaceResponse): Effect.Effect<MarketplaceResponse, ConnectorError> => {
  if (response.status >= 200 && response.status < 300) return Effect.succeed(response)
  const message = describeGoogleError(response)
  if (response.status === 401 || response.status === 403) {
    return Effect.fail(
      new ConnectorError({ kind: "Misconfigured", message: `${operation}: HTTP ${response.status}: ${message}` })
    )
  }
  return Effect.fail(rejected(operation, response, message))
}

// ---------------------------------------------------------------------------
// Service-account JWT (RS256), signed with WebCrypto: `globalThis.crypto` is
// Node's crypto (`require("node:crypto").webcrypto`), and it keeps this module
// free of Node-only imports.

interface ServiceAccount {
  readonly clientEmail: string
  readonly privateKeyPem: Redacted.Redacted<string>
}

const misconfigured = (message: string) => new ConnectorError({ kind: "Misconfigured", message })

/**
 * `api-key` is the service account's `client_email`, `api-secret` its PKCS#8
 * PEM private key. The key may also arrive with its newlines escaped (`\n`, as
 * in the JSON key file), or as the whole JSON key file (its `private_key` is used).
 */
const loadServiceAccount = <S>(context: ConnectorContext<S>): Effect.Effect<ServiceAccount, ConnectorError> =>
  Effect.gen(function*() {
    const email = Redacted.value(yield* requireCredential(context, "api-key")).trim()
    let secret = Redacted.value(yield* requireCredential(context, "api-secret")).trim()
    if (secret.startsWith("{")) {
      try {
        const parsed = asRecord(JSON.parse(secret))
        if (typeof parsed?.private_key === "string") secret = parsed.private_key
      } catch {
        // not JSON after all: judged as a PEM below
      }
    }
    if (email === "") return yield* Effect.fail(misconfigured("credential api-key (the service account's client_email) is empty"))
    return { clientEmail: email, privateKeyPem: Redacted.make(secret.replace(/\\n/g, "\n")) }
  })

const base64Url = (bytes: Uint8Array): string => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
}

const base64UrlJson = (value: unknown) => base64Url(new TextEncoder().encode(JSON.stringify(value)))

/** The DER bytes of a `-----BEGIN PRIVATE KEY-----` block; the messages never quote the key. */
const pkcs8Der = (pem: string): Effect.Effect<Uint8Array, ConnectorError> => {
  if (pem.includes("-----BEGIN RSA PRIVATE KEY-----")) {
    return Effect.fail(misconfigured(
      "credential api-secret is a PKCS#1 key: give the PKCS#8 form (-----BEGIN PRIVATE KEY-----, openssl pkcs8 -topk8 -nocrypt)"
    ))
  }
  const match = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(pem)
  if (match === null || match[1] === undefined) {
    return Effect.fail(misconfigured("credential api-secret is not a PEM private key (-----BEGIN PRIVATE KEY-----)"))
  }
  try {
    const binary = atob(match[1].replace(/\s+/g, ""))
    const der = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) der[i] = binary.charCodeAt(i)
    return Effect.succeed(der)
  } catch {
    return Effect.fail(misconfigured("credential api-secret is not a valid PEM private key (bad base64)"))
  }
}

const signAssertion = (
  account: ServiceAccount,
  audience: string,
  issuedAtSeconds: number
): Effect.Effect<string, ConnectorError> =>
  Effect.gen(function*() {
    const der = yield* pkcs8Der(Redacted.value(account.privateKeyPem))
    const key = yield* Effect.tryPromise({
      try: () =>
        crypto.subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]),
      catch: () => misconfigured("credential api-secret is not a usable PKCS#8 RSA private key")
    })
    const signingInput = `${base64UrlJson({ alg: "RS256", typ: "JWT" })}.${
      base64UrlJson({
        iss: account.clientEmail,
        scope,
        aud: audience,
        iat: issuedAtSeconds,
        exp: issuedAtSeconds + tokenLifetimeSeconds
      })
    }`
    const signature = yield* Effect.tryPromise({
      try: () => crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, new TextEncoder().encode(signingInput)),
      catch: () => misconfigured("signing the token request with credential api-secret failed")
    })
    return `${signingInput}.${base64Url(new Uint8Array(signature))}`
  })

const TokenResponse = Schema.Struct({
  access_token: Schema.String.pipe(Schema.minLength(1)),
  expires_in: Schema.optionalWith(Schema.Number, { default: () => tokenLifetimeSeconds })
})

const fetchToken = (
  context: ConnectorContext<GoogleSettings>,
  account: ServiceAccount
): Effect.Effect<{ readonly accessToken: string; readonly expiresInSeconds: number }, ConnectorError, HttpOut> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const assertion = yield* signAssertion(account, context.settings.tokenUrl, Math.floor(now / 1000))
    const response = yield* marketplaceCall(context, {
      method: "POST",
      url: context.settings.tokenUrl,
      form: { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion },
      ...rates.token
    }, { describeError: describeGoogleError, isThrottled: isQuotaError })
    if (response.status < 200 || response.status >= 300) {
      // invalid_grant (a wrong key, an unknown or disabled account, clock skew), invalid_scope, …
      return yield* Effect.fail(
        misconfigured(`${rates.token.operation}: HTTP ${response.status}: ${describeGoogleError(response)}`)
      )
    }
    const token = yield* Schema.decodeUnknown(TokenResponse)(response.body).pipe(
      Effect.mapError(() =>
        new ConnectorError({ kind: "Unavailable", message: `${rates.token.operation}: the answer carries no access_token` })
      )
    )
    return { accessToken: token.access_token, expiresInSeconds: token.expires_in }
  })

/** A Merchant API call with the cached token (a 401 refreshes it once, in `marketplaceCall`). */
const googleCall = (
  context: ConnectorContext<GoogleSettings>,
  account: ServiceAccount,
  request: MarketplaceRequest
) =>
  marketplaceCall(context, request, {
    token: context.tokens.get(fetchToken(context, account)),
    auth: (accessToken) => ({ authorization: `Bearer ${accessToken}` }),
    isThrottled: isQuotaError,
    describeError: describeGoogleError
  })

const apiUrl = (settings: GoogleSettings, path: string, query: Record<string, string | undefined>) => {
  const url = new URL(`${settings.baseUrl.replace(/\/+$/, "")}${path}`)
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value)
  return url.toString()
}

// ---------------------------------------------------------------------------
// product.updated → productInputs:insert

/** Decimal amount → micros as a string (int64 in JSON), without float noise (33.45 → "33450000"). */
const toMicros = (amount: number): string => {
  const [whole, fraction = ""] = amount.toFixed(6).split(".")
  return (BigInt(whole ?? "0") * 1_000_000n + BigInt(fraction.padEnd(6, "0").slice(0, 6))).toString()
}

/** The ProductInput body; `productAttributes` as in v1 (products_common.proto ProductAttributes). */
export const productInputOf = (settings: GoogleSettings, product: ProductUpdated) => {
  const [imageLink, ...additionalImageLinks] = product.imageUrls
  return {
    offerId: product.sku,
    contentLanguage: settings.contentLanguage,
    feedLabel: settings.feedLabel,
    productAttributes: {
      title: product.title,
      ...(product.description !== "" ? { description: product.description } : {}),
      ...(product.link !== undefined ? { link: product.link } : {}),
      ...(imageLink !== undefined ? { imageLink } : {}),
      ...(additionalImageLinks.length > 0 ? { additionalImageLinks } : {}),
      // Without a quantity the event says nothing about stock: availability is
      // left out (Merchant Center then reports it missing, visible in the poll).
      ...(product.quantity !== undefined ? { availability: product.quantity > 0 ? "IN_STOCK" : "OUT_OF_STOCK" } : {}),
      condition: product.condition,
      ...(product.price !== undefined
        ? { price: { amountMicros: toMicros(product.price.amount), currencyCode: product.price.currency } }
        : {}),
      ...(product.brand !== undefined ? { brand: product.brand } : {})
    }
  }
}

const handleEvent = (
  context: ConnectorContext<GoogleSettings>,
  event: EventEnvelope
) =>
  Effect.gen(function*() {
    if (event.eventType !== "product.updated") {
      return yield* Effect.fail(
        new ConnectorError({ kind: "Invalid", message: `google-shopping does not handle ${event.eventType}` })
      )
    }
    const product = yield* Schema.decodeUnknown(ProductUpdated)(event.data).pipe(
      Effect.mapError((error) =>
        new ConnectorError({
          kind: "Invalid",
          message: `product.updated data: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
        })
      )
    )
    if (product.price !== undefined && !(product.price.amount < 1e12)) {
      return yield* Effect.fail(new ConnectorError({ kind: "Invalid", message: "product.updated data: price is too large" }))
    }
    const account = yield* loadServiceAccount(context)
    const { settings } = context
    const response = yield* googleCall(context, account, {
      method: "POST",
      url: apiUrl(settings, `/products/v1/accounts/${settings.accountId}/productInputs:insert`, {
        dataSource: `accounts/${settings.accountId}/dataSources/${settings.dataSourceId}`
      }),
      json: productInputOf(settings, product),
      ...rates.insert
    }).pipe(Effect.flatMap((r) => expectOk(rates.insert.operation, r)))
    // The answer is the stored ProductInput, `name: accounts/{a}/productInputs/{lang}~{label}~{offerId}`.
    const name = asRecord(response.body)?.name
    yield* Effect.annotateCurrentSpan("google.productInput", typeof name === "string" ? name : "")
    return { entityType: "product", recordCount: 1 }
  })

// ---------------------------------------------------------------------------
// Poll: product statuses

const Countries = Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })

const ProductStatus = Schema.Struct({
  destinationStatuses: Schema.optionalWith(
    Schema.Array(Schema.Struct({
      reportingContext: Schema.optional(Schema.String),
      approvedCountries: Countries,
      pendingCountries: Countries,
      disapprovedCountries: Countries
    })),
    { default: () => [] }
  ),
  itemLevelIssues: Schema.optionalWith(
    Schema.Array(Schema.Struct({
      code: Schema.optional(Schema.String),
      severity: Schema.optional(Schema.String),
      resolution: Schema.optional(Schema.String),
      attribute: Schema.optional(Schema.String),
      reportingContext: Schema.optional(Schema.String),
      applicableCountries: Countries
    })),
    { default: () => [] }
  ),
  lastUpdateDate: Schema.optional(Schema.String)
})
type ProductStatus = typeof ProductStatus.Type

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

const Cursor = Schema.parseJson(Schema.Struct({
  v: Schema.Literal(1),
  /** When the previous poll ran (ISO-8601). */
  at: Schema.String,
  /** Product key (`{lang}~{label}~{offerId}`) → fingerprint of its status. */
  seen: Schema.Record({ key: Schema.String, value: Schema.String })
}))
type Cursor = typeof Cursor.Type

/** cyrb53: a fast 53-bit string hash; a fingerprint, not a security measure. */
const fingerprint = (text: string): string => {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36)
}

const sorted = (values: ReadonlyArray<string>) => [...values].sort()
const byJson = (a: unknown, b: unknown) => {
  const x = JSON.stringify(a)
  const y = JSON.stringify(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/**
 * What counts as a status change: approvals per destination and the
 * item-level issues. Dates are left out, so that re-inserting unchanged data
 * (which moves `lastUpdateDate`) is not reported as a change.
 */
const statusFingerprint = (status: ProductStatus): string =>
  fingerprint(JSON.stringify([
    status.destinationStatuses.map((d) => [
      d.reportingContext ?? "",
      sorted(d.approvedCountries),
      sorted(d.pendingCountries),
      sorted(d.disapprovedCountries)
    ]).sort(byJson),
    status.itemLevelIssues.map((i) => [
      i.code ?? "",
      i.severity ?? "",
      i.reportingContext ?? "",
      i.attribute ?? "",
      i.resolution ?? "",
      sorted(i.applicableCountries)
    ]).sort(byJson)
  ]))

/** One word for the record: DISAPPROVED, PARTIALLY_APPROVED, PENDING, APPROVED or NO_STATUS. */
const statusSummary = (status: ProductStatus): string => {
  const any = (pick: (d: ProductStatus["destinationStatuses"][number]) => ReadonlyArray<string>) =>
    status.destinationStatuses.some((d) => pick(d).length > 0)
  const approved = any((d) => d.approvedCountries)
  const disapproved = any((d) => d.disapprovedCountries)
  if (disapproved) return approved ? "PARTIALLY_APPROVED" : "DISAPPROVED"
  if (approved) return "APPROVED"
  if (any((d) => d.pendingCountries)) return "PENDING"
  return "NO_STATUS"
}

const emptyStatus: ProductStatus = { destinationStatuses: [], itemLevelIssues: [] }

/** `accounts/1/products/en~US~sku1` → `en~US~sku1` (v1 names; an encoded segment is used as it is). */
const productKey = (name: string) => name.slice(name.lastIndexOf("/") + 1)

export interface GoogleShoppingOptions {
  /**
   * How many products' status fingerprints the cursor carries (about 30 bytes
   * each). Beyond it, the products not tracked are reported only when their
   * `lastUpdateDate` is newer than the previous poll.
   */
  readonly maxTrackedProducts?: number
  /** A guard against a listing that never ends. */
  readonly maxPages?: number
}

const poll = (options: Required<GoogleShoppingOptions>) =>
(
  context: ConnectorContext<GoogleSettings>,
  cursor: Option.Option<string>
): Effect.Effect<PollOutcome, ConnectorError, HttpOut> =>
  Effect.gen(function*() {
    const account = yield* loadServiceAccount(context)
    const { settings } = context
    // A cursor this adapter cannot read (another format, corrupted) starts over: everything is reported once.
    const previous: Option.Option<Cursor> = Option.flatMap(cursor, Schema.decodeUnknownOption(Cursor))
    const observedAt = new Date(yield* Clock.currentTimeMillis).toISOString()

    // The whole listing, page by page.
    const listed: Array<typeof ListedProduct.Type> = []
    let pageToken: string | undefined = undefined
    for (let page = 0;; page++) {
      if (page >= options.maxPages) {
        return yield* Effect.fail(
          new ConnectorError({ kind: "Invalid", message: `${rates.list.operation}: more than ${options.maxPages} pages` })
        )
      }
      const response: MarketplaceResponse = yield* googleCall(context, account, {
        method: "GET",
        url: apiUrl(settings, `/products/v1/accounts/${settings.accountId}/products`, {
          pageSize: String(pageSize),
          pageToken
        }),
        ...rates.list
      }).pipe(Effect.flatMap((r) => expectOk(rates.list.operation, r)))
      const body: typeof ListProductsResponse.Type = yield* Schema.decodeUnknown(ListProductsResponse)(response.body).pipe(
        Effect.mapError((error) =>
          new ConnectorError({
            kind: "Unavailable",
            message: `${rates.list.operation}: unexpected answer: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
          })
        )
      )
      listed.push(...body.products)
      const next: string | undefined = body.nextPageToken
      if (next === undefined || next === "") break
      if (next === pageToken) {
        return yield* Effect.fail(
          new ConnectorError({ kind: "Unavailable", message: `${rates.list.operation}: the same page token twice` })
        )
      }
      pageToken = next
    }

    // Maps, not objects: a key is data from Google (no prototype lookups).
    const seenBefore = new Map(Option.match(previous, { onNone: () => [], onSome: (c) => Object.entries(c.seen) }))
    const previousAt = Option.map(previous, (c) => Date.parse(c.at))
    const seen = new Map<string, string>()
    let tracked = 0
    const records: Array<ImportedOrder> = []

    const decoded = listed.map((product) => {
      const status = Schema.decodeUnknownOption(ProductStatus)(product.productStatus ?? {}).pipe(
        Option.getOrElse(() => emptyStatus)
      )
      return { product, status, key: productKey(product.name), print: statusFingerprint(status) }
    })
    const record = (item: (typeof decoded)[number], change: "INITIAL" | "NEW" | "CHANGED" | "UPDATED") =>
      records.push({
        externalOrderId: item.product.name,
        // Google keeps no time at which a *status* changed (`lastUpdateDate` is
        // the product data's): a change is dated when this poll saw it.
        updatedAt: observedAt,
        status: statusSummary(item.status),
        raw: {
          name: item.product.name,
          offerId: item.product.offerId,
          contentLanguage: item.product.contentLanguage,
          feedLabel: item.product.feedLabel,
          dataSource: item.product.dataSource,
          productStatus: item.product.productStatus ?? null,
          change
        }
      })

    // Products tracked last time keep their place, so a full cursor does not churn.
    const current = new Set<string>()
    for (const item of decoded) {
      current.add(item.key)
      const before = seenBefore.get(item.key)
      if (before === undefined || tracked >= options.maxTrackedProducts || seen.has(item.key)) continue
      seen.set(item.key, item.print)
      tracked++
      if (before !== item.print) record(item, "CHANGED")
    }
    for (const item of decoded) {
      if (seen.has(item.key)) continue
      if (tracked < options.maxTrackedProducts) {
        seen.set(item.key, item.print)
        tracked++
        record(item, Option.isNone(previous) ? "INITIAL" : "NEW")
      } else if (Option.isNone(previous)) {
        record(item, "INITIAL")
      } else {
        // Not tracked (the cursor is full): reported when its data changed since the last poll.
        const updated = item.status.lastUpdateDate === undefined ? NaN : Date.parse(item.status.lastUpdateDate)
        if (Option.isSome(previousAt) && updated > previousAt.value) record(item, "UPDATED")
      }
    }
    // Gone from the listing since the last poll (deleted, or expired).
    for (const key of seenBefore.keys()) {
      if (current.has(key)) continue
      const name = `accounts/${settings.accountId}/products/${key}`
      records.push({ externalOrderId: name, updatedAt: observedAt, status: "REMOVED", raw: { name, change: "REMOVED" } })
    }

    return {
      // Google has no orders in this API: these records are product statuses,
      // published with entity "product_status" (on `connector.order.imported`,
      // where the framework publishes every connector's poll records).
      entityType: "product_status",
      records,
      cursor: Schema.encodeSync(Cursor)({ v: 1, at: observedAt, seen: Object.fromEntries(seen) })
    }
  })

// ---------------------------------------------------------------------------

export const makeGoogleShoppingAdapter = (options: GoogleShoppingOptions = {}): ConnectorAdapter<GoogleSettings> => ({
  connectorType: "google-shopping",
  supportedEvents: ["product.updated"],
  settings: GoogleSettings,
  credentialKeys: ["api-key", "api-secret"],
  pollIntervalOf: (settings) => Duration.seconds(settings.pollIntervalSeconds),
  handleEvent,
  poll: poll({ maxTrackedProducts: options.maxTrackedProducts ?? 25_000, maxPages: options.maxPages ?? 2_000 })
})

export const googleShoppingAdapter: ConnectorAdapter<GoogleSettings> = makeGoogleShoppingAdapter()
