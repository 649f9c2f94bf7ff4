import { type Cause, Chunk, Clock, Effect, Queue } from "effect"
import type { ClaimedDelivery, DeliveryStoreShape, Lane, Outcome } from "../../services/DeliveryStore.ts"
import type { DeliveryLane } from "./DeliveryLane.ts"
import type { DeliverySignalsShape, Intake } from "./DeliverySignals.ts"
import { EndpointGate } from "./endpointGate.ts"
import type { DatabaseHealth } from "./health.ts"
import type { Holdings } from "./holdings.ts"
import { countAttemptNow, countDefect, countReleased } from "./metrics.ts"
import { describeCause, supervised } from "./supervised.ts"
import { type DeliveryTimingsShape, millis } from "./timings.ts"

/** Deliveries claimed per round trip. */
const claimBatch = 256

/** After a signalled claim left deliveries behind (a backlog), signals wait this long for the poller. */
const backlogPause = "100 millis"

export interface LaneDeps {
  readonly store: DeliveryStoreShape
  readonly signals: DeliverySignalsShape
  readonly timings: DeliveryTimingsShape
  readonly holdings: Holdings
  readonly owner: string
  readonly health: DatabaseHealth
  /** Where outcomes go to be recorded (queued: it returns at once). */
  readonly record: (lane: Lane, outcome: Outcome) => void
  /** Offered when room was freed in this lane (an attempt finished, or its outcome recorded). */
  readonly roomFreed: RoomFreed
}

/** Wake-ups of a lane's two claimers when room is freed in it. */
export interface RoomFreed {
  readonly poller: Queue.Queue<void>
  readonly dispatcher: Queue.Queue<void>
}

/** Wakes both claimers (each queue holds one wake-up: a second one before it is taken is the same news). */
export const freeRoomNow = (room: RoomFreed) => {
  room.poller.unsafeOffer(undefined)
  room.dispatcher.unsafeOffer(undefined)
}

export const freeRoom = (room: RoomFreed) => Effect.sync(() => freeRoomNow(room))

const outcomeLabel = (outcome: Outcome) =>
  outcome._tag === "Postponed"
    ? "postponed" as const
    : outcome.result.status === "DELIVERED"
    ? "delivered" as const
    : outcome.result.status === "DEAD_LETTERED"
    ? "dead_lettered" as const
    : "failed" as const

/**
 * One lane of the engine (webhooks, or connector runs), for the lifetime of
 * the scope: a dispatcher claims signalled deliveries at once, a poller claims
 * due retries (and whatever a signal missed), and `concurrency` workers
 * attempt what was claimed. Claims are made only for room left in the lane
 * (count and bytes), so a claimed delivery waits briefly for a worker and the
 * memory held stays bounded. On shutdown, claiming stops first, claims not yet
 * attempted are released at once, and attempts in flight finish.
 */
export const runLane = (lane: DeliveryLane, deps: LaneDeps) =>
  Effect.gen(function*() {
    const { holdings, owner, store, timings } = deps
    const capacity = lane.concurrency * 2
    const work = yield* Queue.bounded<ClaimedDelivery>(capacity)
    const signals = deps.signals.queue(lane.lane)

    const finished = () => (lane.lane === "webhook" ? holdings.finished() : [])
    // Webhook claims take ahead (see ClaimAhead); the gate keeps each subscription's open requests within its limit.
    const ahead = () => (lane.lane === "webhook" ? { ahead: holdings.heldBySubscription() } : {})
    const gate = new EndpointGate()
    const room = () => ({
      limit: Math.min(claimBatch, capacity - holdings.size(lane.lane)),
      maxBytes: Math.max(1, timings.maxBytesInHand - holdings.bytes())
    })
    // The dispatcher and the poller claim one at a time: each sees the room the other left.
    const claimGate = yield* Effect.makeSemaphore(1)
    // Claimed deliveries are held (counted against the room) before they are queued for a worker.
    const handOver = (claimed: ReadonlyArray<ClaimedDelivery>) => {
      for (const c of claimed) holdings.add(lane.lane, c.delivery_id, c.payload_bytes, c.subscription_id)
      return Effect.as(work.offerAll(claimed), claimed)
    }
    const claim = (ids?: ReadonlyArray<string>) =>
      claimGate.withPermits(1)(Effect.suspend(() => {
        const { limit, maxBytes } = room()
        if (limit <= 0) return Effect.succeed<ReadonlyArray<ClaimedDelivery>>([])
        return store.claim({
          lane: lane.lane,
          limit,
          maxBytes,
          leaseSeconds: lane.leaseSeconds,
          owner,
          finished: finished(),
          ...ahead(),
          ...(ids ? { ids } : {})
        })
          .pipe(Effect.flatMap(handOver), Effect.tapError(deps.health.noteOutage))
      }))

    // An attempt never fails the worker: a failure or a defect of the attempt itself
    // (a bug, a throwing adapter) is a failed attempt of that delivery, with the reason.
    const failedUnexpectedly = (delivery: ClaimedDelivery, startedAt: number, cause: Cause.Cause<unknown>) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const why = describeCause(cause)
        yield* countDefect(lane.lane)
        yield* Effect.logError("delivery attempt failed unexpectedly; recorded as a failed attempt").pipe(
          Effect.annotateLogs({ lane: lane.lane, deliveryId: delivery.delivery_id, why })
        )
        return {
          _tag: "Attempted",
          result: lane.failedResult(delivery, `internal error: ${why}`, new Date(startedAt), now - startedAt)
        } satisfies Outcome as Outcome
      })
    // Once per delivery, so its bookkeeping after the attempt is one synchronous step: counted, its
    // connection free (the room may be claimed again before the result is on record), the outcome
    // queued for the writer, the claimers woken.
    const finish = (delivery: ClaimedDelivery, outcome: Outcome) =>
      Effect.sync(() => {
        countAttemptNow(lane.lane, outcomeLabel(outcome))
        holdings.finish(delivery.delivery_id, delivery.subscription_id)
        deps.record(lane.lane, outcome)
        freeRoomNow(deps.roomFreed)
        return outcome._tag === "Attempted" && outcome.result.status === "DELIVERED"
      })
    const attempt = (delivery: ClaimedDelivery) =>
      Effect.flatMap(Clock.currentTimeMillis, (startedAt) =>
        lane.attempt(delivery).pipe(
          Effect.catchAllCause((cause) => failedUnexpectedly(delivery, startedAt, cause)),
          Effect.flatMap((outcome) => finish(delivery, outcome))
        ))

    // Claims let go of unattempted; should the store be unreachable, their leases expire instead.
    const release = (unattempted: ReadonlyArray<ClaimedDelivery>, why: "shutdown" | "failed") =>
      Effect.gen(function*() {
        if (unattempted.length === 0) return
        const ids = unattempted.map((d) => d.delivery_id)
        const released = yield* store.releaseLeases(ids, owner).pipe(
          Effect.catchAll((error) =>
            Effect.logWarning("could not release unattempted claims; their leases will expire").pipe(
              Effect.annotateLogs({ lane: lane.lane, when: why, why: error.message }),
              Effect.as(0)
            )
          )
        )
        for (const id of ids) holdings.remove(id)
        yield* countReleased(why === "shutdown" ? "shutdown" : "endpoint_failed", released)
      })

    // A delivery whose subscription has all its requests open waits in the gate; the worker that
    // ends one of them goes on with the next waiting delivery of that subscription.
    // One that did not end in a 2xx sends its subscription's waiting claims back to the store, to be
    // claimed as its breaker, a 410 or its retries now decide, not sent after it regardless.
    const attemptThenWaiting = (first: ClaimedDelivery) =>
      Effect.gen(function*() {
        let next: ClaimedDelivery | undefined = first
        while (next !== undefined) {
          const delivered = yield* attempt(next)
          if (!delivered) yield* release(gate.takeWaitingOf(next), "failed")
          next = gate.next(next)
        }
      })

    // An attempt in hand is finished and its outcome queued even when shutdown interrupts the worker.
    const worker = Effect.uninterruptibleMask((restore) =>
      restore(work.take).pipe(Effect.flatMap((delivery) => (gate.enter(delivery) ? attemptThenWaiting(delivery) : Effect.void)))
    )
    yield* Effect.forkScoped(
      Effect.all(Array.from({ length: lane.concurrency }, () => supervised(`${lane.lane} worker`, worker)), {
        concurrency: "unbounded",
        discard: true
      })
    )

    // Runs after the claimers stopped (finalizers run in reverse): what was claimed but not
    // taken by a worker, or waits in the gate, goes back at once instead of waiting for its
    // lease to run out.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* release([...Chunk.toReadonlyArray(yield* work.takeAll), ...gate.takeWaiting()], "shutdown")
      })
    )

    // Polls again at once while it fills its batch (a backlog), else when room is freed (and
    // claimGather more has passed) or after pollInterval, whichever comes first. A claim can
    // come back short with deliveries due (their subscriptions at their in-flight limit):
    // those wait only for their own attempts to finish, not a full interval.
    // When a claim took nothing and nothing is due, freed room is of no use to the poller (each
    // wake-up would be one more empty claim): it waits for its interval or for the dispatcher
    // to report a backlog.
    const gather = millis(timings.claimGather)
    const recordedOrInterval = deps.roomFreed.poller.take.pipe(
      Effect.zipRight(gather > 0 ? Effect.sleep(gather) : Effect.void),
      Effect.timeout(timings.pollInterval),
      Effect.ignore
    )
    const backlogFound = yield* Queue.sliding<void>(1)
    const backlogOrInterval = backlogFound.take.pipe(Effect.timeout(timings.pollInterval), Effect.ignore)
    const dueAllTheSame = store.anyDue(lane.lane).pipe(
      Effect.tapError(deps.health.noteOutage),
      Effect.orElseSucceed(() => true)
    )
    // While signalled deliveries wait for room and the dispatcher takes all it is given, freed
    // room is the dispatcher's: its claim by id is cheap, where the poller's looks into every
    // active subscription (a store may have thousands) and would hold the claim gate meanwhile.
    // The poller then claims once per interval only (due retries still go out under a steady
    // stream of signals). Once the dispatcher leaves some behind (a backlog), they are the
    // poller's, claimed as room frees.
    const interval = millis(timings.pollInterval)
    let lastPoll = 0
    let backlogLeft = false
    const dispatcherBusy = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      return !backlogLeft && now - lastPoll < interval && (yield* signals.size) > 0
    })
    const poll = Effect.gen(function*() {
      if (room().limit <= 0) return yield* recordedOrInterval
      if (yield* dispatcherBusy) return yield* backlogOrInterval
      const limit = room().limit
      lastPoll = yield* Clock.currentTimeMillis
      const claimed = (yield* claim()).length
      if (claimed >= limit) return
      yield* claimed > 0 || (yield* dueAllTheSame) ? recordedOrInterval : backlogOrInterval
    })
    yield* Effect.forkScoped(supervised(`${lane.lane} poller`, poll))

    // Signalled deliveries are taken off their queue only as far as the lane has room, so a
    // fan-out wider than the lane is claimed by id (its primary key) as room frees, not
    // searched for by the poller. Those its subscription has no room for are the poller's:
    // when a claim leaves some behind, there is a backlog, which the poller takes oldest
    // first; the signals that came meanwhile would only claim nothing, one claim each, in
    // the poller's way, so they are let go.
    const dispatch = Effect.gen(function*() {
      while (room().limit <= 0) yield* deps.roomFreed.dispatcher.take
      const ids = Chunk.toReadonlyArray(yield* signals.takeBetween(1, room().limit))
      const claimed = yield* claim(ids)
      // Short of what was signalled: a backlog only if some are left due (the poller may have taken them).
      const taken = new Set(claimed.map((c) => c.delivery_id))
      const left = ids.filter((id) => !taken.has(id))
      backlogLeft = left.length > 0 && (yield* store.anyDue(lane.lane, left).pipe(Effect.orElseSucceed(() => true)))
      if (backlogLeft) {
        yield* backlogFound.offer(undefined)
        yield* Effect.sleep(backlogPause)
        // What was let go meanwhile is the poller's too.
        if (Chunk.isNonEmpty(yield* signals.takeAll)) yield* backlogFound.offer(undefined)
      }
    })
    yield* Effect.forkScoped(supervised(`${lane.lane} dispatcher`, dispatch))

    // New webhook deliveries are claimed as the fan-out inserts them while the lane has room and
    // no backlog, after their subscriptions' older due deliveries (those a claim left waiting for
    // want of room), so that none is overtaken. A backlog's new deliveries would not fit their
    // subscriptions: the fan-out then only inserts, without holding the claim gate (a large
    // insert would hold up the claimers draining the backlog), and they are claimed as above.
    // Under the claim gate like any claim, so the same room is never given twice; once the
    // lane stops, no intake claims any more.
    if (lane.lane === "webhook") {
      let stopped = false
      const intake: Intake = (fanOut) =>
        backlogLeft || room().limit <= 0 ? fanOut(undefined) : claimGate.withPermits(1)(Effect.suspend(() => {
          const { limit, maxBytes } = room()
          if (stopped || limit <= 0) return fanOut(undefined)
          // What the statement claimed is held and queued even if the consumer is interrupted meanwhile.
          return Effect.uninterruptible(fanOut({ limit, maxBytes, leaseSeconds: lane.leaseSeconds, owner, finished: finished(), ...ahead() }).pipe(
            Effect.tap((result) => handOver(result.claimed))
          ))
        }))
      yield* deps.signals.serveIntake(intake)
      yield* Effect.addFinalizer(() => claimGate.withPermits(1)(Effect.sync(() => {
        stopped = true
      })))
    }
  })
