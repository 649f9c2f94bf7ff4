/**
 * Vitest global setup: gives the tests a PostgreSQL database and a Kafka broker.
 *
 * PostgreSQL: DATABASE_URL is an admin URL (it may create databases). Without it,
 * a `postgres:16` testcontainer is started when a Docker engine answers, else the
 * local server at postgres://postgres@127.0.0.1:5432/postgres is used if it answers.
 * Each run gets its own throwaway database `is_test_<timestamp>_<random>`, provided
 * as `databaseUrl` and dropped at teardown.
 *
 * Kafka: KAFKA_BROKERS (e.g. "127.0.0.1:19092", which `scripts/kafka-broker.sh start`
 * prints). Without it, an `apache/kafka` testcontainer is started when a Docker
 * engine answers, else a broker already listening on 127.0.0.1:19092 is used.
 * Provided as `kafkaBrokers`.
 *
 * When a service cannot be had, "" is provided and a warning printed: unit tests
 * still run, and `testDatabaseUrl()` / `testKafkaBrokers()` throw in the tests
 * that need it. `npm test` (scripts/test.sh) always sets both.
 */
import { randomBytes } from "node:crypto"
import { createServer, Socket } from "node:net"
import pg from "pg"
import type { TestProject } from "vitest/node"
import type {} from "./context.ts"

const LOCAL_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
const LOCAL_KAFKA = { host: "127.0.0.1", port: 19092 }
const POSTGRES_IMAGE = "postgres:16"
const KAFKA_IMAGE = "apache/kafka:3.9.1"
/** Throwaway databases left behind by runs that died are dropped after this long. */
const STALE_DATABASE_MS = 24 * 60 * 60 * 1000

type Cleanup = () => Promise<void>

const warn = (message: string) => process.stderr.write(`[globalSetup] ${message}\n`)

const tcpAnswers = (host: string, port: number, timeoutMs = 1000): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = new Socket()
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once("error", () => done(false))
    socket.connect(port, host, () => done(true))
  })

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** True when testcontainers finds a working container runtime (Docker engine). */
let dockerAvailable: Promise<boolean> | undefined
const hasDocker = (): Promise<boolean> =>
  (dockerAvailable ??= import("testcontainers")
    .then(({ getContainerRuntimeClient }) => getContainerRuntimeClient())
    .then(
      () => true,
      () => false
    ))

/** The URL without its password, for messages. */
const redact = (url: string): string => {
  try {
    const u = new URL(url)
    if (u.password) u.password = "***"
    return u.toString()
  } catch {
    return "<unparsable DATABASE_URL>"
  }
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

const withClient = async <A>(url: string, f: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

const dropDatabase = async (client: pg.Client, name: string) => {
  await client.query(
    "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
    [name]
  )
  await client.query(`drop database if exists ${quoteIdent(name)}`)
}

/** Drops `is_test_<timestamp>_*` databases older than STALE_DATABASE_MS (from runs that were killed). */
const dropStaleDatabases = async (client: pg.Client) => {
  const { rows } = await client.query<{ datname: string }>(
    "select datname from pg_database where datname like 'is\\_test\\_%'"
  )
  for (const { datname } of rows) {
    const timestamp = Number(/^is_test_(\d+)_/.exec(datname)?.[1])
    if (Number.isFinite(timestamp) && Date.now() - timestamp > STALE_DATABASE_MS) {
      await dropDatabase(client, datname).catch((e) => warn(`could not drop stale database ${datname}: ${e}`))
    }
  }
}

const startPostgresContainer = async (cleanups: Array<Cleanup>): Promise<string> => {
  const { GenericContainer, Wait } = await import("testcontainers")
  const container = await new GenericContainer(POSTGRES_IMAGE)
    .withEnvironment({ POSTGRES_PASSWORD: "postgres" })
    .withExposedPorts(5432)
    .withTmpFs({ "/var/lib/postgresql/data": "rw" })
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start()
  cleanups.push(async () => {
    await container.stop()
  })
  return `postgres://postgres:postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`
}

const adminDatabaseUrl = async (cleanups: Array<Cleanup>): Promise<string | undefined> => {
  const fromEnv = process.env["DATABASE_URL"]
  if (fromEnv) return fromEnv
  if (await hasDocker()) return startPostgresContainer(cleanups)
  if (await tcpAnswers("127.0.0.1", 5432)) return LOCAL_POSTGRES_URL
  return undefined
}

const setupDatabase = async (cleanups: Array<Cleanup>): Promise<string> => {
  const adminUrl = await adminDatabaseUrl(cleanups)
  if (adminUrl === undefined) {
    warn("no PostgreSQL: DATABASE_URL is unset, no Docker engine answers and nothing listens on 127.0.0.1:5432")
    return ""
  }
  const name = `is_test_${Date.now()}_${randomBytes(4).toString("hex")}`
  await withClient(adminUrl, async (client) => {
    await dropStaleDatabases(client)
    await client.query(`create database ${quoteIdent(name)}`)
  }).catch((e: unknown) => {
    throw new Error(`could not create the test database ${name} at ${redact(adminUrl)}: ${e}`, { cause: e })
  })
  cleanups.push(() => withClient(adminUrl, (client) => dropDatabase(client, name)))
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/**
 * A single-node KRaft broker. Its client listener is published on the same port
 * number on the Docker host, so that the advertised address is known before start.
 */
const startKafkaContainer = async (cleanups: Array<Cleanup>): Promise<string> => {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import("testcontainers")
  const host = (await getContainerRuntimeClient()).info.containerRuntime.host
  const port = await freePort()
  const container = await new GenericContainer(KAFKA_IMAGE)
    .withExposedPorts({ container: port, host: port })
    .withEnvironment({
      KAFKA_NODE_ID: "1",
      KAFKA_PROCESS_ROLES: "broker,controller",
      KAFKA_CONTROLLER_QUORUM_VOTERS: "1@localhost:9093",
      KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${port},CONTROLLER://localhost:9093,BROKER://localhost:9094`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${port},BROKER://localhost:9094`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,BROKER:PLAINTEXT",
      KAFKA_INTER_BROKER_LISTENER_NAME: "BROKER",
      KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
      KAFKA_NUM_PARTITIONS: "3",
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: "true",
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "1",
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "1",
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: "1",
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: "0",
      KAFKA_HEAP_OPTS: "-Xmx512m -Xms256m"
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(120_000)
    .start()
  cleanups.push(async () => {
    await container.stop()
  })
  return `${host}:${port}`
}

const setupKafka = async (cleanups: Array<Cleanup>): Promise<string> => {
  const fromEnv = process.env["KAFKA_BROKERS"]
  if (fromEnv) return fromEnv
  if (await hasDocker()) return startKafkaContainer(cleanups)
  if (await tcpAnswers(LOCAL_KAFKA.host, LOCAL_KAFKA.port)) return `${LOCAL_KAFKA.host}:${LOCAL_KAFKA.port}`
  warn(
    `no Kafka: KAFKA_BROKERS is unset, no Docker engine answers and nothing listens on ${LOCAL_KAFKA.host}:${LOCAL_KAFKA.port}`
  )
  return ""
}

export default async function setup(project: TestProject): Promise<Cleanup> {
  const cleanups: Array<Cleanup> = []
  const teardown: Cleanup = async () => {
    // last started, first stopped: the database is dropped before its container stops
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((e) => warn(`teardown: ${e instanceof Error ? e.message : String(e)}`))
    }
  }
  // both at once; when one fails, wait for the other before tearing down what was started
  const [database, kafka] = await Promise.allSettled([setupDatabase(cleanups), setupKafka(cleanups)])
  if (database.status === "rejected" || kafka.status === "rejected") {
    await teardown()
    throw database.status === "rejected" ? database.reason : (kafka as PromiseRejectedResult).reason
  }
  project.provide("databaseUrl", database.value)
  project.provide("kafkaBrokers", kafka.value)
  return teardown
}
