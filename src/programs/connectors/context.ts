import { Clock, Duration, Effect, Option, Redacted, Ref, SynchronizedRef } from "effect"
import type { ConnectorContext, Throttle, TokenCache } from "./ConnectorAdapter.ts"

/** A token is refreshed this long before the marketplace says it expires. */
const refreshMargin = Duration.seconds(60)

interface CachedToken {
  readonly token: string
  readonly until: number
}

/**
 * One token per connector config: concurrent callers wait for one fetch
 * (`SynchronizedRef` runs one modification at a time) instead of each fetching.
 */
export const makeTokenCache: Effect.Effect<TokenCache> = Effect.gen(function*() {
  const current = yield* SynchronizedRef.make(Option.none<CachedToken>())
  return {
    get: (fetch) =>
      SynchronizedRef.modifyEffect(current, (cached) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          if (Option.isSome(cached) && cached.value.until > now) return [cached.value.token, cached] as const
          const fresh = yield* fetch
          const until = now + Math.max(0, fresh.expiresInSeconds * 1000 - Duration.toMillis(refreshMargin))
          return [fresh.accessToken, Option.some({ token: fresh.accessToken, until })] as const
        })),
    // Only the refused token: two calls refused at once then share one new token.
    invalidate: (token) =>
      SynchronizedRef.update(current, (cached) =>
        Option.isSome(cached) && cached.value.token === token ? Option.none() : cached)
  }
})

interface Bucket {
  readonly tokens: number
  readonly at: number
}

/**
 * Token buckets keyed by operation: `burst` requests at once, refilled at
 * `ratePerSecond`. A caller over the rate reserves the next free slot (one
 * atomic update of the buckets) and then waits for it *outside* any lock: a
 * getOrders call waiting a minute for its slot holds up no other operation of
 * the config, and later callers queue behind it in order.
 */
export const makeThrottle: Effect.Effect<Throttle> = Effect.gen(function*() {
  const buckets = yield* Ref.make(new Map<string, Bucket>())
  return {
    take: (operation, ratePerSecond, burst) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const waitMs = yield* Ref.modify(buckets, (map) => {
          const bucket = map.get(operation) ?? { tokens: burst, at: now }
          // `at` may lie in the future (slots reserved by waiting callers): tokens then go negative.
          const tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond)
          const next = new Map(map)
          if (tokens >= 1) {
            next.set(operation, { tokens: tokens - 1, at: now })
            return [0, next] as const
          }
          const wait = Math.ceil(((1 - tokens) / ratePerSecond) * 1000)
          next.set(operation, { tokens: 0, at: now + wait })
          return [wait, next] as const
        })
        if (waitMs > 0) yield* Effect.sleep(Duration.millis(waitMs))
      })
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
