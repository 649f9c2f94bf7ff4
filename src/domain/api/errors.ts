import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { clipMessage } from "../../programs/http/clip.ts"

/**
 * Every error the HTTP API answers with, and its status: one place.
 * Bodies are `{"error": "<code>", "message": "<text>"}` (SPEC.md "HTTP API").
 */
const body = <const Code extends string>(code: Code) => ({ error: Schema.Literal(code), message: Schema.String })

export class InvalidRequest extends Schema.Class<InvalidRequest>("InvalidRequest")(
  body("invalid_request"),
  HttpApiSchema.annotations({ status: 400 })
) {
  /** Whatever the message quotes of the request is clipped (see clip.ts). */
  static of = (message: string) => new InvalidRequest({ error: "invalid_request", message: clipMessage(message) })
}

export class Unauthorized extends Schema.Class<Unauthorized>("Unauthorized")(
  body("unauthorized"),
  HttpApiSchema.annotations({ status: 401 })
) {
  static of = (message = "missing or invalid credentials") => new Unauthorized({ error: "unauthorized", message })
}

export class Forbidden extends Schema.Class<Forbidden>("Forbidden")(
  body("forbidden"),
  HttpApiSchema.annotations({ status: 403 })
) {
  static of = (message: string) => new Forbidden({ error: "forbidden", message })
}

export class NotFound extends Schema.Class<NotFound>("NotFound")(
  body("not_found"),
  HttpApiSchema.annotations({ status: 404 })
) {
  static of = (what: string) => new NotFound({ error: "not_found", message: `${what} not found` })
}

export class Conflict extends Schema.Class<Conflict>("Conflict")(
  body("conflict"),
  HttpApiSchema.annotations({ status: 409 })
) {
  static of = (message: string) => new Conflict({ error: "conflict", message })
}

export class ServiceUnavailable extends Schema.Class<ServiceUnavailable>("ServiceUnavailable")(
  body("unavailable"),
  HttpApiSchema.annotations({ status: 503 })
) {
  static of = (message: string) => new ServiceUnavailable({ error: "unavailable", message })
}

/** A request body over the limit, refused before it is read (see bodyLimits.ts). */
export class PayloadTooLarge extends Schema.Class<PayloadTooLarge>("PayloadTooLarge")(
  body("payload_too_large"),
  HttpApiSchema.annotations({ status: 413, description: "the request body is larger than the route allows" })
) {}
