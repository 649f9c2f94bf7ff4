import { Chunk, Effect, Metric, Queue, Ref, Schedule } from "effect"
import type { AttemptResult, Lane, Outcome } from "../../services/DeliveryStore.ts"
import type { PersistenceError } from "../../services/Persistence.ts"
import type { EngineDeps } from "./engineDeps.ts"
import { resultsUnrecordable, resultsWaiting } from "./metrics.ts"
import { supervised } from "./supervised.ts"
import { millis } from "./timings.ts"

/** Outcomes written per transaction. */
const writeBatch = 500

/** While the database is unreachable, writing is tried again on this schedule (forever, but at shutdown). */
const outageRetry = Schedule.exponential("100 millis").pipe(Schedule.union(Schedule.spaced("1 second")))

const isUnavailable = (error: PersistenceError) => error.kind === "Unavailable"

const idOf = (outcome: Outcome) =>
  outcome._tag === "Attempted" ? outcome.result.deliveryId : outcome.postponement.deliveryId

const laneOf = (result: AttemptResult): Lane => (result.connector === null ? "webhook" : "connector")

/** What is left of a result the database refused even alone: its facts, none of the receiver's text. */
const stripped = (outcome: Outcome): Outcome =>
  outcome._tag === "Postponed" ? outcome : {
    _tag: "Attempted",
    result: {
      ...outcome.result,
      responseBody: null,
      error: outcome.result.error === null ? null : "the attempt's error text could not be stored",
      reason: outcome.result.reason === null ? null : `attempt ${outcome.result.attemptNumber} failed`
    }
  }

export interface WriterDeps extends EngineDeps {
  /** Told after every write: room in the lanes, and new outbox rows to relay. */
  readonly written: (lanes: ReadonlySet<Lane>) => Effect.Effect<void>
}

/**
 * Records outcomes in batches (one transaction each, with what the lanes write
 * alongside). Quarantine, never block: a batch the database refuses is written
 * one by one, and a result refused even alone is written stripped of the
 * receiver's text, so one bad answer never holds up the others. While the
 * database is unreachable the results wait in memory (bounded: their claims
 * stay held, so the lanes claim nothing new) and are written when it is back —
 * no result is dropped and no attempt is repeated for it. Outcomes queued at
 * shutdown are still written (for at most `shutdownWriteTimeout` if the database is down).
 */
export const runResultWriter = (deps: WriterDeps) =>
  Effect.gen(function*() {
    const { holdings, store } = deps
    const queue = yield* Queue.unbounded<{ readonly lane: Lane; readonly outcome: Outcome }>()
    const waiting = yield* Ref.make(0)

    const alongside = (recorded: ReadonlyArray<AttemptResult>) =>
      Effect.forEach(deps.lanes, (lane) => {
        const mine = recorded.filter((r) => laneOf(r) === lane.lane)
        return mine.length === 0 || lane.alongside === undefined ? Effect.void : lane.alongside(mine)
      }, { discard: true })

    // Lanes that record their own results take theirs; the rest (postponements, the other
    // lanes' results) are recorded in one transaction. Written again after a failure, a
    // lane's results already recorded are recorded nothing of again (see recordAttempts).
    const recordsItself = new Map(deps.lanes.flatMap((lane) => (lane.recordAttempts ? [[lane.lane, lane.recordAttempts] as const] : [])))
    const write = (outcomes: ReadonlyArray<Outcome>) =>
      Effect.gen(function*() {
        const rest: Array<Outcome> = []
        const own = new Map<Lane, Array<AttemptResult>>()
        for (const outcome of outcomes) {
          const lane = outcome._tag === "Attempted" ? laneOf(outcome.result) : undefined
          if (outcome._tag === "Attempted" && lane !== undefined && recordsItself.has(lane)) {
            const mine = own.get(lane) ?? []
            mine.push(outcome.result)
            own.set(lane, mine)
          } else rest.push(outcome)
        }
        for (const [lane, results] of own) yield* recordsItself.get(lane)!(results)
        if (rest.length > 0) yield* store.record(rest, alongside)
      })

    type Entry = { readonly lane: Lane; readonly outcome: Outcome }

    const noteOutage = (error: PersistenceError, pending: number) =>
      Effect.gen(function*() {
        yield* deps.health.failed
        if ((yield* Ref.getAndSet(waiting, pending)) === 0) {
          yield* Effect.logWarning("database unreachable: attempt results wait in memory and claims pause").pipe(
            Effect.annotateLogs({ results: pending, why: error.message })
          )
        }
        yield* Metric.set(resultsWaiting, pending)
      })
    const outageOver = Ref.getAndSet(waiting, 0).pipe(
      Effect.flatMap((n) =>
        n === 0 ? Effect.void : Effect.logInfo("database reachable again: the waiting attempt results are written").pipe(
          Effect.annotateLogs({ results: n }),
          Effect.zipRight(Metric.set(resultsWaiting, 0))
        )
      )
    )

    // One outcome alone: the same write again through an outage; refused, then stripped; refused again, given up.
    const writeOne = (outcome: Outcome) =>
      write([outcome]).pipe(
        Effect.tapError((error) => (isUnavailable(error) ? noteOutage(error, 1) : Effect.void)),
        Effect.retry({ while: isUnavailable, schedule: outageRetry }),
        Effect.catchAll(() => write([stripped(outcome)]).pipe(Effect.retry({ while: isUnavailable, schedule: outageRetry }))),
        Effect.catchAll((error) => giveUp(outcome, error))
      )

    /**
     * A batch in one transaction. While the database is unreachable it waits and
     * takes in what the workers finish meanwhile, so that the whole backlog is
     * written in one go when the database is back. Only the waits may be
     * interrupted (`interruptibly`), never a write.
     */
    const writeAll = (initial: ReadonlyArray<Entry>, interruptibly: <A>(wait: Effect.Effect<A>) => Effect.Effect<A> = (wait) => wait) =>
      Effect.gen(function*() {
        const driver = yield* Schedule.driver(outageRetry)
        let entries = initial
        for (;;) {
          const outcomes = entries.map((e) => e.outcome)
          const written = yield* Effect.either(write(outcomes))
          if (written._tag === "Right") break
          if (!isUnavailable(written.left)) {
            yield* Effect.forEach(outcomes, writeOne, { discard: true })
            break
          }
          yield* noteOutage(written.left, entries.length + (yield* queue.size))
          // Shutdown may interrupt the wait: the batch goes back to the queue for the final flush.
          const waitFor = entries
          yield* interruptibly(driver.next(undefined).pipe(Effect.ignore)).pipe(
            Effect.onInterrupt(() => queue.offerAll(waitFor))
          )
          if (entries.length < writeBatch) {
            entries = [...entries, ...Chunk.toReadonlyArray(yield* queue.takeUpTo(writeBatch - entries.length))]
          }
        }
        yield* outageOver
        for (const entry of entries) holdings.remove(idOf(entry.outcome))
        yield* deps.written(new Set(entries.map((e) => e.lane)))
      })

    const giveUp = (outcome: Outcome, error: PersistenceError) =>
      Effect.gen(function*() {
        yield* Metric.increment(resultsUnrecordable)
        yield* Effect.logError("an attempt result could not be recorded even stripped; its claim is released").pipe(
          Effect.annotateLogs({ deliveryId: idOf(outcome), why: error.message })
        )
        yield* store.releaseLeases([idOf(outcome)], deps.owner).pipe(Effect.ignore)
      })

    // What else is finished within writeGather goes into the same transaction (fewer, larger writes).
    const gather = millis(deps.timings.writeGather)
    const gatherMore = (first: Chunk.Chunk<Entry>) =>
      gather === 0 || Chunk.size(first) >= writeBatch ? Effect.succeed(first) : Effect.sleep(gather).pipe(
        Effect.zipRight(queue.takeUpTo(writeBatch - Chunk.size(first))),
        Effect.map((more) => Chunk.appendAll(first, more))
      )

    // A batch taken off the queue is written even when shutdown interrupts the writer
    // (the gathering wait included: only the wait for a first outcome may be interrupted).
    const step = Effect.uninterruptibleMask((restore) =>
      restore(queue.takeBetween(1, writeBatch)).pipe(
        Effect.flatMap(gatherMore),
        Effect.flatMap((batch) => writeAll(Chunk.toReadonlyArray(batch), restore))
      )
    )
    yield* Effect.forkScoped(supervised("result writer", step))
    yield* Effect.addFinalizer(() =>
      queue.takeAll.pipe(
        Effect.flatMap((batch) => writeAll(Chunk.toReadonlyArray(batch))),
        Effect.timeout(millis(deps.timings.shutdownWriteTimeout)),
        Effect.catchAll(() => Effect.logError("shutdown: attempt results could not be written; their deliveries will be attempted again"))
      )
    )

    // Unbounded: the offer always succeeds at once (the claims held bound what can be in it).
    return { record: (lane: Lane, outcome: Outcome) => void queue.unsafeOffer({ lane, outcome }) }
  })
