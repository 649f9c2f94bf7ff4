import type { Schema } from "effect"

/**
 * A request body's schema as the API decodes it: an unknown field is an error
 * (so the OpenAPI document's `additionalProperties: false` holds), and every
 * failing field is reported, not only the first.
 */
export const strict = <S extends Schema.Schema.Any>(schema: S): S =>
  schema.annotations({ parseOptions: { onExcessProperty: "error", errors: "all" } }) as S
