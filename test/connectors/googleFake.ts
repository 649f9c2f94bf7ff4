/**
 * A fake Google for the Google Shopping (Merchant API v1) connector tests: a
 * token endpoint that verifies the service account's RS256 JWT with the public
 * key, and the productInputs:insert / products.list endpoints, on 127.0.0.1;
 * and the helpers that run the adapter against it.
 */
import { Effect, Layer, Schema } from "effect"
import * as nodeCrypto from "node:crypto"
import { makeHttpOutLive } from "../../src/layers/HttpOutLive.ts"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import type { ConnectorError } from "../../src/programs/connectors/ConnectorAdapter.ts"
import { GoogleSettings } from "../../src/programs/connectors/adapters/google-shopping/index.ts"
import { makeConnectorContext } from "../../src/programs/connectors/context.ts"
import { HttpOut } from "../../src/services/HttpOut.ts"
import { fakeServer, type FakeRequest, type FakeResponse, type FakeServer, json } from "./fakeServer.ts"

export const keyPair = () =>
  nodeCrypto.generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" }
  })

export const serviceAccountKey = keyPair()
export const clientEmail = "feed-sync@shop-project.iam.gserviceaccount.com"
export const account = "123456"
export const dataSource = `accounts/${account}/dataSources/7890`
export const contentScope = "https://www.googleapis.com/auth/content"

export const HttpOutLayer = Layer.scoped(
  HttpOut,
  makeHttpOutLive({ defaultTimeoutMs: 5_000, defaultMaxBodyBytes: 1024 * 1024, blockPrivateAddresses: false })
)

// ---------------------------------------------------------------------------
// The fake Google

export interface Status {
  readonly approved?: ReadonlyArray<string>
  readonly pending?: ReadonlyArray<string>
  readonly disapproved?: ReadonlyArray<string>
  readonly issues?: ReadonlyArray<{ readonly code: string; readonly severity: string; readonly attribute?: string }>
  readonly lastUpdateDate?: string
}

/** A processed product as products.list answers it (proto3 JSON: empty lists left out). */
export const listedProduct = (sku: string, status: Status = { approved: ["US"] }) => {
  const nonEmpty = (key: string, values: ReadonlyArray<string> | undefined) =>
    values !== undefined && values.length > 0 ? { [key]: values } : {}
  return {
    name: `accounts/${account}/products/en~US~${sku}`,
    offerId: sku,
    contentLanguage: "en",
    feedLabel: "US",
    dataSource,
    productAttributes: { title: `Product ${sku}`, availability: "IN_STOCK" },
    productStatus: {
      destinationStatuses: [{
        reportingContext: "SHOPPING_ADS",
        ...nonEmpty("approvedCountries", status.approved),
        ...nonEmpty("pendingCountries", status.pending),
        ...nonEmpty("disapprovedCountries", status.disapproved)
      }],
      ...(status.issues !== undefined && status.issues.length > 0
        ? {
          itemLevelIssues: status.issues.map((i) => ({
            ...i,
            reportingContext: "SHOPPING_ADS",
            resolution: "merchant_action",
            description: `issue ${i.code}`,
            applicableCountries: ["US"]
          }))
        }
        : {}),
      creationDate: "2026-01-01T00:00:00Z",
      lastUpdateDate: status.lastUpdateDate ?? "2026-01-02T00:00:00Z",
      googleExpirationDate: "2026-02-01T00:00:00Z"
    }
  }
}
export type ListedProduct = ReturnType<typeof listedProduct>

export interface GoogleState {
  /** `expires_in` of the next tokens. */
  expiresIn: number
  readonly issued: Array<string>
  /** Tokens the API answers 401 to (revoked). */
  readonly revoked: Set<string>
  revokeAll: boolean
  /** Answers for the next inserts, before the normal one. */
  readonly insertScript: Array<FakeResponse>
  /** The catalog products.list pages through. */
  catalog: Array<ListedProduct>
  readonly listPageSize: number
}

export const fail = (message: string): never => {
  throw new Error(message)
}

export const b64urlJson = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, "base64url").toString("utf8"))

/** Google's token endpoint: verifies the JWT bearer assertion (RS256 signature and claims). */
export const tokenEndpoint = (server: () => FakeServer, state: GoogleState, req: FakeRequest): FakeResponse => {
  if (req.method !== "POST") fail(`token: method ${req.method}`)
  if (req.headers["content-type"] !== "application/x-www-form-urlencoded") fail(`token: content-type ${req.headers["content-type"]}`)
  if (req.form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
    return json(400, { error: "unsupported_grant_type", error_description: "Invalid grant_type" })
  }
  const [header, payload, signature, ...rest] = (req.form.get("assertion") ?? "").split(".")
  if (header === undefined || payload === undefined || signature === undefined || rest.length > 0) {
    return json(400, { error: "invalid_grant", error_description: "Invalid JWT: not three segments" })
  }
  const valid = nodeCrypto.verify(
    "RSA-SHA256",
    Buffer.from(`${header}.${payload}`),
    serviceAccountKey.publicKey,
    Buffer.from(signature, "base64url")
  )
  if (!valid) return json(400, { error: "invalid_grant", error_description: "Invalid JWT Signature." })
  const h = b64urlJson(header)
  if (h.alg !== "RS256" || h.typ !== "JWT") fail(`token: JWT header ${JSON.stringify(h)}`)
  const claims = b64urlJson(payload)
  const now = Math.floor(Date.now() / 1000)
  if (claims.iss !== clientEmail) fail(`token: iss ${String(claims.iss)}`)
  if (claims.scope !== contentScope) fail(`token: scope ${String(claims.scope)}`)
  if (claims.aud !== `${server().url}/token`) fail(`token: aud ${String(claims.aud)}`)
  if (typeof claims.iat !== "number" || typeof claims.exp !== "number") fail("token: iat/exp not numbers")
  const iat = claims.iat as number
  const exp = claims.exp as number
  if (Math.abs(iat - now) > 60) fail(`token: iat ${iat} is not now (${now})`)
  if (!(exp > iat && exp <= iat + 3600)) fail(`token: exp ${exp} not within an hour of iat ${iat}`)
  const token = `ya29.fake-${state.issued.length + 1}`
  state.issued.push(token)
  return json(200, { access_token: token, expires_in: state.expiresIn, token_type: "Bearer" })
}

export const unauthenticated = json(401, {
  error: { code: 401, message: "Request had invalid authentication credentials.", status: "UNAUTHENTICATED" }
})

export const bearerOk = (state: GoogleState, req: FakeRequest) => {
  const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")
  const token = match?.[1]
  return token !== undefined && state.issued.includes(token) && !state.revoked.has(token) && !state.revokeAll
}

export const insertEndpoint = (state: GoogleState, req: FakeRequest): FakeResponse => {
  if (req.method !== "POST") fail(`insert: method ${req.method}`)
  if (!bearerOk(state, req)) return unauthenticated
  const scripted = state.insertScript.shift()
  if (scripted !== undefined) return scripted
  if (req.query.get("dataSource") !== dataSource) fail(`insert: dataSource ${req.query.get("dataSource")}`)
  if (req.headers["content-type"] !== "application/json") fail(`insert: content-type ${req.headers["content-type"]}`)
  const body = req.json as Record<string, unknown> | undefined
  if (body === undefined) return fail("insert: body is not JSON")
  if (typeof body.offerId !== "string" || body.offerId === "") fail("insert: offerId")
  if (body.contentLanguage !== "en" || body.feedLabel !== "US") fail("insert: contentLanguage/feedLabel")
  const attributes = body.productAttributes as Record<string, unknown> | undefined
  if (attributes === undefined || typeof attributes.title !== "string") fail("insert: productAttributes.title")
  const price = attributes?.price as { amountMicros?: unknown; currencyCode?: unknown } | undefined
  if (price !== undefined && (typeof price.amountMicros !== "string" || !/^[0-9]+$/.test(price.amountMicros))) {
    fail(`insert: price.amountMicros ${JSON.stringify(price.amountMicros)} is not an int64 string`)
  }
  const allowed = new Set([
    "title",
    "description",
    "link",
    "imageLink",
    "additionalImageLinks",
    "availability",
    "condition",
    "price",
    "brand"
  ])
  for (const key of Object.keys(attributes ?? {})) if (!allowed.has(key)) fail(`insert: unknown attribute ${key}`)
  const key = `en~US~${String(body.offerId)}`
  return json(200, {
    name: `accounts/${account}/productInputs/${key}`,
    product: `accounts/${account}/products/${key}`,
    ...body
  })
}

export const listEndpoint = (state: GoogleState, req: FakeRequest): FakeResponse => {
  if (req.method !== "GET") fail(`list: method ${req.method}`)
  if (!bearerOk(state, req)) return unauthenticated
  if (req.query.get("pageSize") !== "250") fail(`list: pageSize ${req.query.get("pageSize")}`)
  const token = req.query.get("pageToken")
  const page = token === null ? 0 : Number(/^page-(\d+)$/.exec(token)?.[1] ?? fail(`list: pageToken ${token}`)) - 1
  const start = page * state.listPageSize
  const products = state.catalog.slice(start, start + state.listPageSize)
  const more = start + state.listPageSize < state.catalog.length
  return json(200, {
    ...(products.length > 0 ? { products } : {}),
    ...(more ? { nextPageToken: `page-${page + 2}` } : {})
  })
}

export const fakeGoogle = Effect.gen(function*() {
  const state: GoogleState = {
    expiresIn: 3600,
    issued: [],
    revoked: new Set(),
    revokeAll: false,
    insertScript: [],
    catalog: [],
    listPageSize: 2
  }
  let self: FakeServer | undefined
  const server = yield* fakeServer((req) => {
    if (req.path === "/token") return tokenEndpoint(() => self!, state, req)
    if (req.path === `/products/v1/accounts/${account}/productInputs:insert`) return insertEndpoint(state, req)
    if (req.path === `/products/v1/accounts/${account}/products`) return listEndpoint(state, req)
    return fail(`unexpected ${req.method} ${req.url}`)
  })
  self = server
  const calls = (path: string) => server.requests.filter((r) => r.path === path)
  return {
    server,
    state,
    tokenCalls: () => calls("/token"),
    insertCalls: () => calls(`/products/v1/accounts/${account}/productInputs:insert`),
    listCalls: () => calls(`/products/v1/accounts/${account}/products`),
    settings: Schema.decodeUnknownSync(GoogleSettings)({
      accountId: account,
      dataSourceId: "7890",
      baseUrl: server.url,
      tokenUrl: `${server.url}/token`
    })
  }
})

export const credentials = { "api-key": clientEmail, "api-secret": serviceAccountKey.privateKey }

export const contextFor = (settings: GoogleSettings, creds: Record<string, string> = credentials) =>
  makeConnectorContext({ configId: "cfg-google-1", storeId: "store-1", settings, credentials: creds })

export const productUpdated = (data: Record<string, unknown>, eventType = "product.updated") =>
  new EventEnvelope({
    eventId: nodeCrypto.randomUUID(),
    eventType,
    storeId: "store-1",
    occurredAt: new Date().toISOString(),
    data
  })

export const widget = {
  sku: "sku-1",
  title: "Blue widget",
  description: "A widget, blue",
  price: { amount: 33.45, currency: "USD" },
  quantity: 7,
  imageUrls: ["https://shop.example/img/1.jpg", "https://shop.example/img/2.jpg", "https://shop.example/img/3.jpg"],
  link: "https://shop.example/p/sku-1",
  condition: "NEW",
  brand: "Acme"
}

export const failure = <A>(effect: Effect.Effect<A, ConnectorError, HttpOut>) =>
  Effect.flip(effect).pipe(Effect.provide(HttpOutLayer))

export const run = <A>(effect: Effect.Effect<A, ConnectorError, HttpOut>) => effect.pipe(Effect.provide(HttpOutLayer))
