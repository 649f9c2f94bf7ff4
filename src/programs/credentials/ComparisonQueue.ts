import { Data, Effect, Metric, Random } from "effect"
import type { PasswordHasherShape } from "../../services/PasswordHasher.ts"

/** Too many comparisons already wait: the caller answers 503 with `Retry-After`. */
export class ComparisonsOverloaded extends Data.TaggedError("ComparisonsOverloaded")<{
  readonly retryAfterSeconds: number
}> {}

export interface ComparisonQueueOptions {
  /** Comparisons run at once (bcrypt runs on libuv's thread pool, which DNS and file I/O share). */
  readonly lanes: number
  /** A comparison is refused rather than queued when the queue ahead of it would take longer than this. */
  readonly maxWaitMs: number
  /** At most this many comparisons of one client_id wait at a time (a flood of wrong secrets for one id). */
  readonly maxWaitingPerClient: number
  /** What a comparison is taken to cost until one has been measured. */
  readonly initialEstimateMs: number
  /**
   * More unknown client_ids than this in flight at once is a flood: each then
   * waits `floodWaitMs` (holding the flooder's connection, on a timer only).
   */
  readonly floodThreshold: number
  readonly floodWaitMs: number
}

export const comparisons = Metric.counter("credential_bcrypt_comparisons_total", {
  description: "bcrypt comparisons of presented secrets: kind=real (a client_id that exists) or decoy (one that does not)"
})
export const decoysWaited = Metric.counter("credential_decoy_waits_total", {
  description: "unknown client_ids answered after a wait instead of a comparison (comparisons were busy, or a flood): kind=busy|flood"
})
export const comparisonsShed = Metric.counter("credential_comparisons_shed_total", {
  description: "comparisons refused with 503 because too many already waited"
})

interface Waiter {
  granted: boolean
  wake: (() => void) | undefined
}

/**
 * Who gets bcrypt, and when. A client_id that exists gets a real comparison:
 * at most `lanes` at once, waiting in a queue that serves client_ids in turn
 * (so one id flooded with wrong secrets delays only itself) and refuses with
 * `ComparisonsOverloaded` rather than grow past `maxWaitMs` of work. A client_id
 * that does not exist gets a decoy: a comparison against a hash of nothing
 * when bcrypt is idle and no other unknown id is in flight, so it costs what a
 * wrong secret costs; otherwise a wait as long as a comparison takes, on no
 * lane at all; and in a flood (many unknown ids at once) a longer wait, which
 * slows the flooder without costing anything. Forged keys never queue ahead
 * of real ones, and take no CPU from them.
 */
export const makeComparisonQueue = (hasher: PasswordHasherShape, options: ComparisonQueueOptions) =>
  Effect.gen(function*() {
    const clock = yield* Effect.clock
    let running = 0
    let waiting = 0
    /** Unknown client_ids being answered right now (decoys and waits). */
    let unknownInFlight = 0
    /** client_id → its waiters in arrival order; the Map's own order is the turn order. */
    const queues = new Map<string, Array<Waiter>>()

    const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.suspend(() => {
        const started = clock.unsafeCurrentTimeMillis()
        return Effect.ensuring(effect, Effect.sync(() => observe(clock.unsafeCurrentTimeMillis() - started)))
      })

    // What one comparison takes here and now: a moving average, from a guess until the first
    // one is measured (measuring one at start-up would delay serving by a comparison).
    let estimateMs = options.initialEstimateMs
    let measured = false
    const observe = (ms: number) => {
      estimateMs = measured ? estimateMs * 0.8 + ms * 0.2 : ms
      measured = true
    }

    const maxWaiting = () => Math.max(options.lanes, Math.floor((options.maxWaitMs / Math.max(1, estimateMs)) * options.lanes))
    const retryAfterSeconds = () => Math.max(1, Math.ceil(((waiting / options.lanes + 1) * estimateMs) / 1000))

    const dispatch = () => {
      while (running < options.lanes && waiting > 0) {
        const next = queues.entries().next().value
        if (next === undefined) return
        const [clientId, queue] = next
        const waiter = queue.shift()!
        queues.delete(clientId)
        // Its other waiters go to the back: the next lane goes to the next client_id.
        if (queue.length > 0) queues.set(clientId, queue)
        waiting--
        running++
        waiter.granted = true
        waiter.wake?.()
      }
    }
    const release = Effect.sync(() => {
      running--
      dispatch()
    })

    /** A lane for a comparison of `clientId`, or ComparisonsOverloaded (checked synchronously, on arrival). */
    const enqueue = (clientId: string): Waiter | ComparisonsOverloaded => {
      const waiter: Waiter = { granted: false, wake: undefined }
      if (running < options.lanes && waiting === 0) {
        running++
        waiter.granted = true
        return waiter
      }
      const queue = queues.get(clientId)
      if (waiting >= maxWaiting() || (queue?.length ?? 0) >= options.maxWaitingPerClient) {
        return new ComparisonsOverloaded({ retryAfterSeconds: retryAfterSeconds() })
      }
      if (queue === undefined) queues.set(clientId, [waiter])
      else queue.push(waiter)
      waiting++
      return waiter
    }
    /** An interrupted waiter leaves the queue, or gives back the lane it was just granted. */
    const leave = (clientId: string, waiter: Waiter) =>
      Effect.suspend(() => {
        if (waiter.granted) return release
        const queue = queues.get(clientId)
        const at = queue?.indexOf(waiter) ?? -1
        if (queue !== undefined && at >= 0) {
          queue.splice(at, 1)
          if (queue.length === 0) queues.delete(clientId)
          waiting--
        }
        return Effect.void
      })
    const granted = (waiter: Waiter) =>
      waiter.granted ? Effect.void : Effect.async<void>((resume) => {
        waiter.wake = () => resume(Effect.void)
      })

    // The comparison itself runs to its end once started: its thread cannot be stopped anyway.
    const compareOnLane = (secret: string, hash: string) =>
      Effect.uninterruptible(timed(hasher.verify(secret, hash)).pipe(Effect.ensuring(release)))

    const real = (clientId: string, secret: string, hash: string): Effect.Effect<boolean, ComparisonsOverloaded> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.suspend(() => {
          const waiter = enqueue(clientId)
          if (waiter instanceof ComparisonsOverloaded) {
            return Metric.increment(comparisonsShed).pipe(Effect.zipRight(Effect.fail(waiter)))
          }
          return restore(granted(waiter)).pipe(
            Effect.onInterrupt(() => leave(clientId, waiter)),
            Effect.zipRight(Metric.increment(Metric.tagged(comparisons, "kind", "real"))),
            Effect.zipRight(compareOnLane(secret, hash))
          )
        })
      )

    const decoy = (secret: string): Effect.Effect<void> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.suspend(() => {
          unknownInFlight++
          const done = Effect.sync(() => void unknownInFlight--)
          if (unknownInFlight === 1 && running === 0 && waiting === 0) {
            running++
            return Metric.increment(Metric.tagged(comparisons, "kind", "decoy")).pipe(
              Effect.zipRight(compareOnLane(secret, hasher.decoyHash)),
              Effect.asVoid,
              Effect.ensuring(done)
            )
          }
          const flood = unknownInFlight > options.floodThreshold
          // A flood's waits are spread (±50 %): ending together, they would come back together.
          const waitMs = flood
            ? Effect.map(Random.nextRange(0.5, 1.5), (f) => Math.max(options.floodWaitMs, estimateMs) * f)
            : Effect.succeed(estimateMs)
          return Metric.increment(Metric.tagged(decoysWaited, "kind", flood ? "flood" : "busy")).pipe(
            Effect.zipRight(waitMs),
            Effect.flatMap((ms) => restore(Effect.sleep(Math.max(1, Math.round(ms))))),
            Effect.ensuring(done)
          )
        })
      )

    return {
      real,
      decoy,
      /** For tests and metrics: comparisons running and waiting now. */
      load: () => ({ running, waiting, unknownInFlight, estimateMs })
    }
  })

export type ComparisonQueue = Effect.Effect.Success<ReturnType<typeof makeComparisonQueue>>
