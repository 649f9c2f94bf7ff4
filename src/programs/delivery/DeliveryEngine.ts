import { Effect, Layer, Queue } from "effect"
import { AppConfig } from "../../services/AppConfig.ts"
import { DeliveryStore, type Lane } from "../../services/DeliveryStore.ts"
import { Kafka } from "../../services/Kafka.ts"
import { DeliveryLanes } from "./DeliveryLane.ts"
import { DeliverySignals } from "./DeliverySignals.ts"
import { DatabaseHealth } from "./health.ts"
import { Holdings } from "./holdings.ts"
import { freeRoom, type RoomFreed, runLane } from "./laneRunner.ts"
import { runLeaseKeeper } from "./leases.ts"
import { runOutboxRelay } from "./outboxRelay.ts"
import { runResultWriter } from "./resultWriter.ts"
import { DeliveryTimings } from "./timings.ts"
import { runTableUpkeep } from "./upkeep.ts"

/**
 * The delivery engine of one instance, for the lifetime of the layer: per lane
 * (webhooks, connector runs) its own claimers, queue and workers; one result
 * writer; the lease keeper and the sweeper; the outbox relay. Started in this
 * order so that shutdown (the reverse) drains cleanly: claiming stops, claims
 * not yet attempted are released, attempts in flight finish and are recorded,
 * and the outbox is flushed.
 */
export const makeDeliveryEngine = Effect.gen(function*() {
  const store = yield* DeliveryStore
  const lanes = yield* DeliveryLanes
  const signals = yield* DeliverySignals
  const timings = yield* DeliveryTimings
  if (!timings.runEngine) return
  const kafka = yield* Kafka
  const config = yield* AppConfig
  const holdings = new Holdings()
  const health = new DatabaseHealth()
  const owner = `instance-${crypto.randomUUID()}`

  const relay = yield* runOutboxRelay({
    store,
    kafka,
    timings,
    limits: {
      maxMessages: 500,
      maxBatchBytes: Math.min(900_000, config.kafka.maxMessageBytes),
      maxMessageBytes: config.kafka.maxMessageBytes
    }
  })
  // Room freed in a lane wakes both of its claimers (each its own wake-up, so neither takes the other's).
  const wakeups = Effect.all({ poller: Queue.sliding<void>(1), dispatcher: Queue.sliding<void>(1) })
  const roomFreed: Record<Lane, RoomFreed> = { webhook: yield* wakeups, connector: yield* wakeups }
  const writer = yield* runResultWriter({
    store,
    lanes,
    holdings,
    owner,
    timings,
    health,
    written: (written) =>
      Effect.forEach(written, (lane) => freeRoom(roomFreed[lane]), { discard: true }).pipe(
        Effect.zipRight(relay.wake)
      )
  })
  yield* runLeaseKeeper({ store, lanes, holdings, owner, timings, health })
  yield* runTableUpkeep({ store, timings, health })
  for (const lane of lanes) {
    yield* runLane(lane, { store, signals, timings, holdings, owner, health, record: writer.record, roomFreed: roomFreed[lane.lane] })
  }
})

export const DeliveryEngineLive = Layer.scopedDiscard(makeDeliveryEngine)
