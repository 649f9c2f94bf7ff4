import { Schema } from "effect"

/**
 * The `data` of the platform events connectors act on. Fields the connectors
 * don't need are allowed and ignored (the platform's events carry more).
 */
export const Money = Schema.Struct({
  amount: Schema.Number.pipe(Schema.nonNegative()),
  currency: Schema.String.pipe(Schema.pattern(/^[A-Z]{3}$/))
})

export const ProductUpdated = Schema.Struct({
  sku: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)),
  title: Schema.String,
  description: Schema.optionalWith(Schema.String, { default: () => "" }),
  price: Schema.optional(Money),
  quantity: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  imageUrls: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  link: Schema.optional(Schema.String),
  condition: Schema.optionalWith(Schema.Literal("NEW", "USED", "REFURBISHED"), { default: () => "NEW" as const }),
  brand: Schema.optional(Schema.String),
  attributes: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Unknown }), { default: () => ({}) })
})
export type ProductUpdated = typeof ProductUpdated.Type

export const InventoryUpdated = Schema.Struct({
  sku: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)),
  quantity: Schema.Int.pipe(Schema.nonNegative()),
  price: Schema.optional(Money)
})
export type InventoryUpdated = typeof InventoryUpdated.Type

/** An order shipped: marketplaces that sold it are told (their own order and item ids). */
export const OrderFulfilled = Schema.Struct({
  orderId: Schema.String,
  /** The marketplace's order id, when the order came from a marketplace. */
  externalOrderId: Schema.optional(Schema.String),
  marketplace: Schema.optional(Schema.String),
  carrierCode: Schema.String,
  trackingNumber: Schema.String,
  shipDate: Schema.String,
  items: Schema.Array(Schema.Struct({
    sku: Schema.optional(Schema.String),
    externalItemId: Schema.optional(Schema.String),
    quantity: Schema.Int.pipe(Schema.positive())
  }))
})
export type OrderFulfilled = typeof OrderFulfilled.Type

/** What a poll publishes on `connector.order.imported` (as the `data` of an event envelope). */
export interface ImportedOrder {
  readonly externalOrderId: string
  /** The marketplace's last-update time of the order (ISO-8601): with the id, what makes a change unique. */
  readonly updatedAt: string
  readonly status: string
  readonly raw: Readonly<Record<string, unknown>>
}
