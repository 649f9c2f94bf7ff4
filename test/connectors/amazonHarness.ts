/** The Amazon adapter against the fake SP-API (amazonSpApiFake.ts): a context, `handle`, `poll`. */
import { expect } from "@effect/vitest"
import { Effect, type Option, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { EventEnvelope } from "../../src/domain/EventEnvelope.ts"
import { makeHttpOutLive } from "../../src/layers/HttpOutLive.ts"
import { ConnectorError } from "../../src/programs/connectors/ConnectorAdapter.ts"
import { amazonAdapter } from "../../src/programs/connectors/adapters/amazon/index.ts"
import { makeConnectorContext } from "../../src/programs/connectors/context.ts"
import { HttpOut } from "../../src/services/HttpOut.ts"
import { CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, SELLER, startFake } from "./amazonSpApiFake.ts"

// --- test harness ---------------------------------------------------------------------

export const credentials = { "api-key": CLIENT_ID, "api-secret": CLIENT_SECRET, "refresh-token": REFRESH_TOKEN }

export const setup = (options: {
  readonly settings?: Record<string, unknown>
  readonly credentials?: Record<string, string>
} = {}) =>
  Effect.gen(function*() {
    const productType = typeof options.settings?.productType === "string" ? options.settings.productType : "PRODUCT"
    const fake = yield* startFake(productType)
    const settings = yield* Schema.decodeUnknown(amazonAdapter.settings)({
      sellerId: SELLER,
      baseUrl: fake.url,
      tokenUrl: fake.tokenUrl,
      ...options.settings
    })
    const context = yield* makeConnectorContext({
      configId: "cfg-amazon-1",
      storeId: "store-1",
      settings,
      credentials: options.credentials ?? credentials
    })
    const httpOut = yield* makeHttpOutLive({ defaultTimeoutMs: 5_000, defaultMaxBodyBytes: 1024 * 1024, blockPrivateAddresses: false })
    const handle = (eventType: string, data: Record<string, unknown>) =>
      amazonAdapter.handleEvent(
        context,
        new EventEnvelope({ eventId: randomUUID(), eventType, storeId: "store-1", occurredAt: new Date().toISOString(), data })
      ).pipe(Effect.provideService(HttpOut, httpOut))
    const poll = (cursor: Option.Option<string>) =>
      amazonAdapter.poll(context, cursor).pipe(Effect.provideService(HttpOut, httpOut))
    return { fake, context, handle, poll }
  })

export const product = (overrides: Record<string, unknown> = {}) => ({
  sku: "SKU-1",
  title: "Trail Runner 2",
  description: "A light trail shoe.",
  price: { amount: 89.5, currency: "USD" },
  imageUrls: ["https://img.example/1.jpg", "https://img.example/2.jpg", "https://img.example/3.jpg"],
  condition: "NEW",
  brand: "Acme",
  ...overrides
})

export const failure = <A>(effect: Effect.Effect<A, ConnectorError>) =>
  Effect.flip(effect).pipe(Effect.tap((e) => Effect.sync(() => expect(e).toBeInstanceOf(ConnectorError))))

export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")
