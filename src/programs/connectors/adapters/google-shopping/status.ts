import { Schema } from "effect"

/** What Merchant API v1 reports of a processed product (products_common.proto ProductStatus). */

const Countries = Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })

export const ProductStatus = Schema.Struct({
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
export type ProductStatus = typeof ProductStatus.Type

export const emptyStatus: ProductStatus = { destinationStatuses: [], itemLevelIssues: [] }

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
export const statusFingerprint = (status: ProductStatus): string =>
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
export const statusSummary = (status: ProductStatus): string => {
  const any = (pick: (d: ProductStatus["destinationStatuses"][number]) => ReadonlyArray<string>) =>
    status.destinationStatuses.some((d) => pick(d).length > 0)
  const approved = any((d) => d.approvedCountries)
  const disapproved = any((d) => d.disapprovedCountries)
  if (disapproved) return approved ? "PARTIALLY_APPROVED" : "DISAPPROVED"
  if (approved) return "APPROVED"
  if (any((d) => d.pendingCountries)) return "PENDING"
  return "NO_STATUS"
}
