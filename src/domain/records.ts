import { Schema } from "effect"
import { StoreId } from "./EventEnvelope.ts"

/** A stored record's id: a UUID branded with its kind, so that one kind's id cannot be passed for another's. */
export const RecordId = <const Brand extends string>(brand: Brand) => Schema.UUID.pipe(Schema.brand(brand))

/** The fields every record a store owns starts with: its own id and its store's. */
export const StoreRecord = <Id extends Schema.Schema.Any>(id: Id) => ({ id, storeId: StoreId })

/** When a stored record was made and last changed: every admin listing sorts by them. */
export const Timestamps = {
  createdAt: Schema.DateTimeUtc,
  updatedAt: Schema.DateTimeUtc
}

/** One page of a keyset-paginated listing: nextCursor is passed back as `cursor` for the next (null on the last). */
export const Page = <Item extends Schema.Schema.Any>(item: Item) =>
  Schema.Struct({
    items: Schema.Array(item),
    nextCursor: Schema.NullOr(Schema.String)
  })

/** A listing answered whole, not paginated. */
export const Items = <Item extends Schema.Schema.Any>(item: Item) => Schema.Struct({ items: Schema.Array(item) })
