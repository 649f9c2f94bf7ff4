/**
 * Messages on an event topic that are not event envelopes are skipped: they
 * never block their partition, the next good event is still delivered, and the
 * consumer group's committed offset moves past them. Real Kafka, raw kafkajs
 * producer (so a null value and invalid UTF-8 can be sent).
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { type Admin, Kafka as KafkaJs, logLevel, type Producer } from "kafkajs"
import { randomUUID } from "node:crypto"
import { TestApp } from "../support/app.ts"
import { testKafkaBrokerList } from "../support/context.ts"
import { eventually } from "../support/eventually.ts"
import { startReceiver } from "../support/receiver.ts"
import {
  attemptRecorded,
  envelope,
  expectNoMoreRequests,
  nextRequest,
  storeDeliveries,
  subscribe,
  uniqueStore
} from "./deliveryHelpers.ts"

const prefix = `malformed-${randomUUID().slice(0, 8)}`

const rawKafka = Effect.acquireRelease(
  Effect.promise(async () => {
    const kafka = new KafkaJs({ clientId: `${prefix}-raw`, brokers: testKafkaBrokerList(), logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await Promise.all([admin.connect(), producer.connect()])
    return { admin, producer }
  }),
  ({ admin, producer }) => Effect.promise(() => Promise.all([admin.disconnect(), producer.disconnect()]))
)

const createTopic = (admin: Admin, topic: string) =>
  Effect.promise(() =>
    admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true })
  )

const send = (producer: Producer, topic: string, key: string, values: ReadonlyArray<string | Buffer | null>) =>
  Effect.promise(() => producer.send({ topic, acks: -1, messages: values.map((value) => ({ key, value })) }))

const committedOffset = (admin: Admin, topic: string) =>
  Effect.promise(() => admin.fetchOffsets({ groupId: prefix, topics: [topic] })).pipe(
    Effect.map((result) => Number(result[0]?.partitions.find((p) => p.partition === 0)?.offset ?? -1))
  )

describe("malformed Kafka messages (real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix, isolatedDatabase: true }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.scoped("are skipped: the next good event on the partition is delivered and the committed offset moves past them", () =>
      Effect.gen(function*() {
        const { admin, producer } = yield* rawKafka
        const topic = `${prefix}.orders`
        yield* createTopic(admin, topic)
        const receiver = yield* startReceiver()
        const storeId = uniqueStore()
        yield* subscribe(storeId, `${receiver.url}/hook`, ["*"])

        const good = envelope(storeId)
        const bad: ReadonlyArray<string | Buffer | null> = [
          "this is not JSON {",
          JSON.stringify({ hello: "world" }),
          // Everything right but the event id (it would fail the database's uuid column).
          JSON.stringify({ ...envelope(storeId), eventId: "not-a-uuid" }),
          null,
          Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
          JSON.stringify([good]),
          JSON.stringify({ ...envelope(storeId), data: null }),
          JSON.stringify({ ...envelope(storeId), eventType: "Order Placed" }),
          ""
        ]
        yield* send(producer, topic, storeId, [...bad, JSON.stringify(good)])

        const request = yield* nextRequest(receiver.received, "20 seconds")
        expect(JSON.parse(request.text)).toEqual(good)
        yield* attemptRecorded(request.headers["x-ss3-delivery"] as string, 1)
        yield* eventually(committedOffset(admin, topic), (offset) => offset === bad.length + 1)

        // Nothing else became a delivery.
        const rows = yield* storeDeliveries(storeId)
        expect(rows.map((r) => r.event_id)).toEqual([good.eventId])

        // And the partition keeps flowing: more bad, then good, after the commit.
        const next = envelope(storeId)
        yield* send(producer, topic, storeId, ["{\"eventId\":", null, JSON.stringify(next)])
        const second = yield* nextRequest(receiver.received, "20 seconds")
        expect(JSON.parse(second.text)).toEqual(next)
        yield* eventually(committedOffset(admin, topic), (offset) => offset === bad.length + 4)
        yield* expectNoMoreRequests(receiver.received, 300)
      }))
  })
})
