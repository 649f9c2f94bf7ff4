/**
 * Smoke test of the test harness: the global setup provides a throwaway
 * PostgreSQL database and a Kafka broker, and both answer.
 */
import { Kafka, logLevel } from "kafkajs"
import pg from "pg"
import { describe, expect, inject, it } from "vitest"
import { testDatabaseUrl, testKafkaBrokerList } from "./support/context.ts"

describe("test harness", () => {
  it("provides a throwaway database that answers", async () => {
    const url = testDatabaseUrl()
    expect(inject("databaseUrl")).toBe(url)
    expect(new URL(url).pathname).toMatch(/^\/is_test_\d+_[0-9a-f]+$/)
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const { rows } = await client.query<{ one: number; db: string }>("select 1 as one, current_database() as db")
      expect(rows).toEqual([{ one: 1, db: new URL(url).pathname.slice(1) }])
    } finally {
      await client.end()
    }
  })

  it("provides a Kafka broker that answers", async () => {
    const brokers = testKafkaBrokerList()
    expect(brokers.length).toBeGreaterThan(0)
    const admin = new Kafka({ clientId: "harness-test", brokers, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      // It takes a topic and lists it back with its partitions.
      const topic = `harness-admin-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })).toBe(true)
      expect(await admin.listTopics()).toContain(topic)
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics
      expect(metadata!.partitions).toHaveLength(3)
    } finally {
      await admin.disconnect()
    }
  })
})

describe("test harness: Kafka round trip", () => {
  it("produces to an auto-created topic and consumes it back in a consumer group", async () => {
    const kafka = new Kafka({ clientId: "harness-test", brokers: testKafkaBrokerList(), logLevel: logLevel.NOTHING })
    const topic = `harness-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`
    const producer = kafka.producer({ allowAutoTopicCreation: true })
    const consumer = kafka.consumer({ groupId: `${topic}-group` })
    try {
      await producer.connect()
      await producer.send({ topic, messages: [{ key: "k", value: "hello" }] })
      await consumer.connect()
      await consumer.subscribe({ topic, fromBeginning: true })
      const received = await new Promise<string>((resolve, reject) => {
        consumer
          .run({ eachMessage: async ({ message }) => resolve(message.value?.toString() ?? "") })
          .catch(reject)
      })
      expect(received).toBe("hello")
    } finally {
      await consumer.disconnect()
      await producer.disconnect()
    }
  })
})
