import { Effect } from "effect"
import { ProductUpdated } from "../../../../domain/connectors/events.ts"
import type { EventEnvelope } from "../../../../domain/EventEnvelope.ts"
import { ConnectorError, type SyncOutcome } from "../../ConnectorAdapter.ts"
import { decodeEventData } from "../../marketplace/eventData.ts"
import { marketplaceUrl } from "../../marketplace/http.ts"
import { isRecord } from "../../marketplace/json.ts"
import { googleCall, loadServiceAccount } from "./auth.ts"
import { expectOk } from "./errors.ts"
import { type GoogleContext, type GoogleSettings, rates } from "./settings.ts"

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

/**
 * product.updated → `productInputs:insert` into the config's API data source
 * (an insert replaces the input with the same contentLanguage, feedLabel and
 * offerId: every field we know is sent each time).
 */
export const handleEvent = (context: GoogleContext, event: EventEnvelope) =>
  Effect.gen(function*() {
    if (event.eventType !== "product.updated") {
      return yield* Effect.fail(
        new ConnectorError({ kind: "Invalid", message: `google-shopping does not handle ${event.eventType}` })
      )
    }
    const product = yield* decodeEventData(ProductUpdated, event)
    if (product.price !== undefined && !(product.price.amount < 1e12)) {
      return yield* Effect.fail(new ConnectorError({ kind: "Invalid", message: "product.updated data: price is too large" }))
    }
    const account = yield* loadServiceAccount(context)
    const { settings } = context
    const response = yield* googleCall(context, account, {
      method: "POST",
      url: marketplaceUrl(settings.baseUrl, `/products/v1/accounts/${settings.accountId}/productInputs:insert`, {
        dataSource: `accounts/${settings.accountId}/dataSources/${settings.dataSourceId}`
      }),
      json: productInputOf(settings, product),
      ...rates.insert
    }).pipe(Effect.flatMap((r) => expectOk(rates.insert.operation, r)))
    // The answer is the stored ProductInput, `name: accounts/{a}/productInputs/{lang}~{label}~{offerId}`.
    const name = isRecord(response.body) ? response.body.name : undefined
    yield* Effect.annotateCurrentSpan("google.productInput", typeof name === "string" ? name : "")
    return { entityType: "product", recordCount: 1 } satisfies SyncOutcome
  })
