import { Context, Data, type Effect } from "effect"

/** Outbound HTTP to third parties (webhook receivers, marketplaces). */
export interface OutboundRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly url: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Uint8Array
  /** Whole-exchange timeout; default from the layer. */
  readonly timeoutMs?: number
  /** The response body is read up to this many bytes; default from the layer. */
  readonly maxBodyBytes?: number
}

export interface OutboundResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** The body as UTF-8, cut at `maxBodyBytes`. */
  readonly body: string
  readonly truncated: boolean
  readonly durationMs: number
}

export class HttpOutError extends Data.TaggedError("HttpOutError")<{
  readonly reason: "Timeout" | "Connection" | "InvalidUrl" | "BlockedAddress"
  readonly detail: string
  readonly durationMs: number
}> {
  override get message() {
    return `${this.reason}: ${this.detail}`
  }
}

export interface HttpOutShape {
  /** Redirects are never followed: a 3xx is returned as it is. */
  readonly request: (request: OutboundRequest) => Effect.Effect<OutboundResponse, HttpOutError>
}

export class HttpOut extends Context.Tag("integration-service/HttpOut")<HttpOut, HttpOutShape>() {}
