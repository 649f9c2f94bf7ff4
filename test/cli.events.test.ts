/**
 * `integration-service events publish`: its --data and --brokers checks, and publishing to Kafka.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Queue, Schema } from "effect"
import { inject } from "vitest"
import { eventsCommand, parseBrokers, parseEventData } from "../src/cli/commands/events.ts"
import { CliError } from "../src/cli/client.ts"
import { EventEnvelopeFromJson } from "../src/domain/EventEnvelope.ts"
import { makeKafkaLive } from "../src/layers/KafkaLive.ts"
import { makeCli, type Route, stubAdminApi } from "./support/cliHarness.ts"

const TOKEN = "test-admin-token-s3cr3t"
const STORE = "store-1"
const EVENT_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

const stubApi = (route: Route) => stubAdminApi(TOKEN, route)

const cli = makeCli([eventsCommand])

describe("events publish --data", () => {
  it.effect("accepts a JSON object", () =>
    Effect.gen(function*() {
      expect(yield* parseEventData(`{"orderId":"o-1","total":12.5}`)).toEqual({ orderId: "o-1", total: 12.5 })
      expect(yield* parseEventData("{}")).toEqual({})
    }))

  it.effect("refuses anything else with one clear message", () =>
    Effect.gen(function*() {
      for (const [input, expected] of [
        ["[1,2]", /must be a JSON object.*got an array/],
        ["\"text\"", /must be a JSON object.*got a string/],
        ["null", /must be a JSON object.*got null/],
        ["42", /must be a JSON object.*got a number/],
        ["{orderId: 1}", /--data is not valid JSON/]
      ] as const) {
        const error = yield* Effect.flip(parseEventData(input))
        expect(error).toBeInstanceOf(CliError)
        expect(error.message).toMatch(expected)
      }
    }))

  it.scoped("is checked before anything is sent", () =>
    Effect.gen(function*() {
      const api = yield* stubApi(() => ({ status: 202, body: { topic: "order.placed", eventId: EVENT_ID } }))
      const result = yield* cli([
        "events", "publish", "--type", "order.placed", "--store", STORE, "--data", "[1]", "--url", api.url, "--token", TOKEN
      ])
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toMatch(/^error: --data must be a JSON object/)
      expect(result.stderr.split("\n")).toHaveLength(1)
      expect(api.requests).toHaveLength(0)
    }))

  it("reads --brokers / KAFKA_BROKERS as a comma-separated list, empty meaning not given", () => {
    expect(parseBrokers(Option.some(" a:9092, b:9092 ,"))).toEqual(["a:9092", "b:9092"])
    expect(parseBrokers(Option.some(""))).toEqual([])
    expect(parseBrokers(Option.none())).toEqual([])
  })
})

describe("events publish via Kafka", () => {
  const brokers = inject("kafkaBrokers")

  it.scoped.skipIf(!brokers)("publishes the full envelope, keyed by the store id, to the topic", () =>
    Effect.gen(function*() {
      const topic = `cli-test-${crypto.randomUUID()}`
      const result = yield* cli([
        "events", "publish", "--type", "order.placed", "--store", STORE, "--data", `{"orderId":"o-9"}`,
        "--event-id", EVENT_ID, "--topic", topic, "--brokers", brokers
      ])
      expect(result.stderr).toBe("")
      expect(result.stdout).toContain(`topic ${topic}`)

      const kafka = yield* makeKafkaLive({ brokers: brokers.split(","), clientId: "cli-test" })
      const received = yield* Queue.unbounded<{ key: string | null; value: Uint8Array | null }>()
      yield* kafka.consume(
        { groupId: `cli-test-${crypto.randomUUID()}`, topics: new RegExp(`^${topic}$`) },
        (m) => Queue.offer(received, m)
      )
      const message = yield* Queue.take(received).pipe(Effect.timeout("30 seconds"))
      expect(message.key).toBe(STORE)
      const envelope = yield* Schema.decodeUnknown(EventEnvelopeFromJson)(new TextDecoder().decode(message.value!))
      expect(envelope).toMatchObject({ eventId: EVENT_ID, eventType: "order.placed", storeId: STORE, data: { orderId: "o-9" } })
    }), 90_000)
})
