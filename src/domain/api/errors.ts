import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { clipMessage } from "../../programs/http/clip.ts"

/**
 * Every error the HTTP API answers with, and its status: one place.
 * Bodies are `{"error": "<code>", "message": "<text>"}` (SPEC.md "HTTP API").
 */
const body = <const Code extends string>(code: Code) => ({ error: Schema.Literal(code), message: Schema.String })

/**
 * An error class's body and its HTTP status (the annotation HttpApiSchema.annotations would
 * write), as Schema.Class takes them.
 */
const answer = <const Code extends string>(code: Code, status: number, description?: string) =>
  [body(code), { [HttpApiSchema.AnnotationStatus]: status, ...(description === undefined ? {} : { description }) }] as const

export class InvalidRequest extends Schema.Class<InvalidRequest>("InvalidRequest")(...answer("invalid_request", 400)) {
  /** Whatever the message quotes of the request is clipped (see clip.ts). */
  static of = (message: string) => new InvalidRequest({ error: "invalid_request", message: clipMessage(message) })
}

export class Unauthorized extends Schema.Class<Unauthorized>("Unauthorized")(...answer("unauthorized", 401)) {
  static of = (message = "missing or invalid credentials") => new Unauthorized({ error: "unauthorized", message })
}

export class Forbidden extends Schema.Class<Forbidden>("Forbidden")(...answer("forbidden", 403)) {
  static of = (message: string) => new Forbidden({ error: "forbidden", message })
}

export class NotFound extends Schema.Class<NotFound>("NotFound")(...answer("not_found", 404)) {
  static of = (what: string) => new NotFound({ error: "not_found", message: `${what} not found` })
}

export class Conflict extends Schema.Class<Conflict>("Conflict")(...answer("conflict", 409)) {
  static of = (message: string) => new Conflict({ error: "conflict", message })
}

export class ServiceUnavailable extends Schema.Class<ServiceUnavailable>("ServiceUnavailable")(...answer("unavailable", 503)) {
  static of = (message: string) => new ServiceUnavailable({ error: "unavailable", message })
}

/** A request body over the limit, refused before it is read (see bodyLimits.ts). */
export class PayloadTooLarge extends Schema.Class<PayloadTooLarge>("PayloadTooLarge")(
  ...answer("payload_too_large", 413, "the request body is larger than the route allows")
) {}
