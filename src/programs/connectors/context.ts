import { Clock, Duration, Effect, Option, Redacted, Ref, SynchronizedRef } from "effect"
import type { ConnectorContext, Throttle, TokenCache } from "./ConnectorAdapter.ts"

/** A token is refreshed this long before the marketplace says it expires. */
const refreshMargin = Duration.seconds(60)

export const makeTokenCache: Effect.Effect<TokenCache> = Effect.gen(function*() {
  const current = yield* SynchronizedRef.make(Option.none<{ readonly token: string; readonly until: number }>())
  return {
    // Concurrent callers wait for one fetch instead of each fetching.
    get: (fetch) =>
      SynchronizedRef.modifyEffect(current, (cached) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          if (Option.isSome(cached) && cached.value.until > now) return [cached.value.token, cached] as const
          const fresh = yield* fetch
          const until = now + Math.max(0, fresh.expiresInSeconds * 1000 - Duration.toMillis(refreshMargin))
          return [fresh.accessToken, Option.some({ token: fresh.accessToken, until })] as const
        })),
    invalidate: SynchronizedRef.set(current, Option.none())
  }
})

/**
 * Token buckets keyed by operation: `burst` requests at once, refilled at
 * `ratePerSecond`. A caller over the rate waits for its token.
 */
export const makeThrottle: Effect.Effect<Throttle> = Effect.gen(function*() {
  const buckets = yield* Ref.make(new Map<string, { tokens: number; at: number }>())
  const gate = yield* Effect.makeSemaphore(1)
  return {
    take: (operation, ratePerSecond, burst) =>
      gate.withPermits(1)(Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const map = yield* Ref.get(buckets)
        const bucket = map.get(operation) ?? { tokens: burst, at: now }
        const tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond)
        if (tokens >= 1) {
          map.set(operation, { tokens: tokens - 1, at: now })
          return
        }
        const waitMs = Math.ceil(((1 - tokens) / ratePerSecond) * 1000)
        map.set(operation, { tokens: 0, at: now + waitMs })
        yield* Effect.sleep(Duration.millis(waitMs))
      }))
  }
})

/** A context for one connector config (its token cache and throttle live as long as it does). */
export const makeConnectorContext = <S>(options: {
  readonly configId: string
  readonly storeId: string
  readonly settings: S
  readonly credentials: Readonly<Record<string, string | Redacted.Redacted<string>>>
}) =>
  Effect.gen(function*() {
    const credentials = Object.fromEntries(
      Object.entries(options.credentials).map(([k, v]) => [k, typeof v === "string" ? Redacted.make(v) : v])
    )
    return {
      configId: options.configId,
      storeId: options.storeId,
      settings: options.settings,
      credentials,
      tokens: yield* makeTokenCache,
      throttle: yield* makeThrottle
    } satisfies ConnectorContext<S>
  })
