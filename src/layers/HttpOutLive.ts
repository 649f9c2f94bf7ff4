import * as dns from "node:dns"
import { isIP, type LookupFunction } from "node:net"
import { Effect, Layer, type Scope } from "effect"
import { Agent } from "undici"
import { isBlockedAddress } from "../services/AddressPolicy.ts"
import { AppConfig } from "../services/AppConfig.ts"
import {
  HttpOut,
  HttpOutError,
  type HttpOutShape,
  type OutboundRequest,
  type OutboundResponse
} from "../services/HttpOut.ts"
import { exchange } from "./httpOut/exchange.ts"

export interface HttpOutLiveOptions {
  readonly defaultTimeoutMs: number
  readonly defaultMaxBodyBytes: number
  /** Refuse loopback, private, link-local and metadata destinations (SSRF). */
  readonly blockPrivateAddresses: boolean
  readonly userAgent?: string
}

/** Webhook receivers answer with a status; a large error page is of no use to us. */
const webhookMaxBodyBytes = 16 * 1024

const defaultUserAgent = "ShopSTAR3-integration-service"

/** Raised inside the socket's DNS lookup; recognised again when undici rejects with it. */
class BlockedAddressError extends Error {
  readonly code = "ERR_SS3_BLOCKED_ADDRESS"
}

/**
 * Resolves like `dns.lookup` but refuses the whole name when any of its
 * addresses is blocked. Running at connect time (not at validation time) is
 * what defeats DNS rebinding: the address checked is the address dialled.
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, "")
    const blocked = addresses.find((a) => isBlockedAddress(a.address))
    if (blocked !== undefined) {
      return callback(new BlockedAddressError(`${hostname} resolves to blocked address ${blocked.address}`), "")
    }
    const first = addresses[0]
    if (first === undefined) {
      return callback(Object.assign(new Error(`${hostname} has no addresses`), { code: "ENOTFOUND" }), "")
    }
    // Node asks for all addresses when it races IPv4/IPv6 (autoSelectFamily).
    if (options.all === true) return callback(null, addresses)
    return callback(null, first.address, first.family)
  })
}

const timeoutCodes = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ETIMEDOUT"
])

const errorCode = (cause: unknown): string | undefined => {
  if (typeof cause !== "object" || cause === null) return undefined
  const code = (cause as { code?: unknown }).code
  if (typeof code === "string") return code
  // Node's happy-eyeballs connect reports an AggregateError of per-address failures.
  const errors = (cause as { errors?: unknown }).errors
  return Array.isArray(errors) ? errorCode(errors[0]) : undefined
}

/** Undici and socket errors name no secrets (headers and bodies never appear in them). */
const describeCause = (cause: unknown): string => {
  const code = errorCode(cause)
  const message = cause instanceof Error ? cause.message : String(cause)
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message
}

const stripBrackets = (hostname: string): string =>
  hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname

export const makeHttpOutLive = (options: HttpOutLiveOptions): Effect.Effect<HttpOutShape, never, Scope.Scope> =>
  Effect.gen(function*() {
    const agent = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new Agent({
          keepAliveTimeout: 4_000,
          ...(options.blockPrivateAddresses ? { connect: { lookup: guardedLookup } } : {})
        })
      ),
      // By the time the scope closes its users are gone: abort, don't wait.
      (agent) => Effect.promise(() => agent.destroy().catch(() => undefined))
    )
    const userAgent = options.userAgent ?? defaultUserAgent

    const request = (req: OutboundRequest): Effect.Effect<OutboundResponse, HttpOutError> =>
      Effect.suspend(() => {
        const started = performance.now()
        const elapsed = () => Math.round(performance.now() - started)
        const fail = (reason: HttpOutError["reason"], detail: string) =>
          Effect.fail(new HttpOutError({ reason, detail, durationMs: elapsed() }))

        let url: URL
        try {
          url = new URL(req.url)
        } catch {
          return fail("InvalidUrl", "not a valid absolute URL")
        }
        if (url.protocol !== "http:" && url.protocol !== "https:") {
          return fail("InvalidUrl", `scheme ${url.protocol} is not http or https`)
        }
        // Node dials IP literals without calling the lookup, so they are judged here.
        const host = stripBrackets(url.hostname)
        if (options.blockPrivateAddresses && isIP(host) !== 0 && isBlockedAddress(host)) {
          return fail("BlockedAddress", `${host} is a blocked address`)
        }

        const timeoutMs = req.timeoutMs ?? options.defaultTimeoutMs
        const maxBodyBytes = req.maxBodyBytes ?? options.defaultMaxBodyBytes
        const headers: Record<string, string> = { ...req.headers }
        if (!Object.keys(headers).some((name) => name.toLowerCase() === "user-agent")) {
          headers["user-agent"] = userAgent
        }

        return exchange(agent, { url, method: req.method, headers, body: req.body ?? null, timeoutMs, maxBodyBytes }).pipe(
          Effect.mapBoth({
            onSuccess: (answer): OutboundResponse => ({ ...answer, durationMs: elapsed() }),
            onFailure: (failed) => {
              const cause = failed._tag === "Failed" ? failed.cause : undefined
              const code = errorCode(cause)
              if (failed._tag === "TimedOut" || (code !== undefined && timeoutCodes.has(code))) {
                return new HttpOutError({
                  reason: "Timeout",
                  detail: `no complete response within ${timeoutMs} ms`,
                  durationMs: elapsed()
                })
              }
              if (cause instanceof BlockedAddressError) {
                return new HttpOutError({ reason: "BlockedAddress", detail: cause.message, durationMs: elapsed() })
              }
              return new HttpOutError({ reason: "Connection", detail: describeCause(cause), durationMs: elapsed() })
            }
          })
        )
      })

    return { request } satisfies HttpOutShape
  })

/** Webhook delivery's HttpOut: the configured timeout, SSRF guard unless insecure targets are allowed. */
export const HttpOutLive: Layer.Layer<HttpOut, never, AppConfig> = Layer.scoped(
  HttpOut,
  Effect.flatMap(AppConfig, (config) =>
    makeHttpOutLive({
      defaultTimeoutMs: config.webhook.timeoutMs,
      defaultMaxBodyBytes: webhookMaxBodyBytes,
      blockPrivateAddresses: !config.webhook.allowInsecureTargets
    }))
)
