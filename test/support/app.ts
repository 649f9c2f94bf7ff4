import { HttpServer } from "@effect/platform"
import type { SqlClient } from "@effect/sql/SqlClient"
import type { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Option, Redacted } from "effect"
import { type BreakerPolicy, defaultBreakerPolicy } from "../../src/domain/webhooks/breaker.ts"
import { CryptoPrimitivesNode } from "../../src/layers/CryptoPrimitivesNode.ts"
import { DnsTest } from "../../src/layers/DnsLive.ts"
import { makeHttpOutLive } from "../../src/layers/HttpOutLive.ts"
import { makeHttpServerNode } from "../../src/layers/HttpServerNode.ts"
import { makeKafkaLive } from "../../src/layers/KafkaLive.ts"
import { NotificationsPg } from "../../src/layers/NotificationsPg.ts"
import { PasswordHasherBcrypt } from "../../src/layers/PasswordHasherBcrypt.ts"
import { makeVaultTest } from "../../src/layers/VaultTest.ts"
import type { ConnectorRegistry } from "../../src/programs/connectors/ConnectorRegistry.ts"
import { DeliveryTimings, type DeliveryTimingsShape, defaultDeliveryTimings } from "../../src/programs/delivery/timings.ts"
import { ConnectorRegistryLive } from "../../src/programs/connectors/registry.ts"
import { makeMain } from "../../src/programs/main.ts"
import { AppConfig, type AppConfigShape } from "../../src/services/AppConfig.ts"
import { HttpOut } from "../../src/services/HttpOut.ts"
import type { PasswordHasher } from "../../src/services/PasswordHasher.ts"
import { Kafka } from "../../src/services/Kafka.ts"
import { Vault } from "../../src/services/Vault.ts"
import { testKafkaBrokerList } from "./context.ts"
import { IsolatedTestDbLive, TestDbLive } from "./db.ts"

export const adminToken = "test-admin-token-0123456789abcdef"

export interface TestAppOptions {
  /** Topics this app consumes: keep it unique per test file so files don't read each other's events. */
  readonly eventTopics: RegExp
  readonly groupId: string
  readonly mode?: "live" | "dev"
  readonly allowInsecureTargets?: boolean
  readonly webhookTimeoutMs?: number
  readonly dns?: Readonly<Record<string, ReadonlyArray<string>>>
  readonly workers?: Partial<DeliveryTimingsShape>
  /** Run no delivery engine (tests that drive claims by hand). */
  readonly withoutWorkers?: boolean
  /**
   * Run on a freshly created database of its own instead of this run's shared one,
   * so the delivery workers of other test files (running in parallel) never claim
   * this app's deliveries, and this app's workers never claim theirs.
   */
  readonly isolatedDatabase?: boolean
  /**
   * The database layer itself (wins over `isolatedDatabase`): e.g. two apps on one
   * database of their own, each with `migratedDbLive(url)` (./db.ts) for the same URL.
   */
  readonly database?: Layer.Layer<PgClient.PgClient | SqlClient, unknown>
  readonly kafkaMaxMessageBytes?: number
  readonly eventMaxBytes?: number
  /** The secret store (default: in memory). */
  readonly vault?: Layer.Layer<Vault>
  /** Brokers other than this run's (an unreachable one, say). */
  readonly kafkaBrokers?: ReadonlyArray<string>
  /** bcrypt cost of the app's password hasher (default 4: fast tests). */
  readonly bcryptCost?: number
  /** The connectors it runs (default: the service's registry), e.g. adapters with test rates. */
  readonly registry?: Layer.Layer<ConnectorRegistry>
  /** The password hasher itself (wins over `bcryptCost`): e.g. bcrypt behind a gate the test opens. */
  readonly passwordHasher?: Layer.Layer<PasswordHasher>
  /** The admin token the app is configured with (default `adminToken`). */
  readonly adminToken?: string
  /** HTTP_MAX_BODY_BYTES (default 64 KiB). */
  readonly maxBodyBytes?: number
  /** The endpoints' circuit breaker (default: the service's). */
  readonly webhookBreaker?: Partial<BreakerPolicy>
}

/** Timings for tests: quick polls, short leases, a sweeper that runs often. */
export const fastWorkers: DeliveryTimingsShape = {
  ...defaultDeliveryTimings,
  webhookConcurrency: 16,
  connectorConcurrency: 4,
  pollInterval: "200 millis",
  renewInterval: "1 second",
  webhookLeaseSeconds: 5,
  connectorLeaseSeconds: 10,
  sweepInterval: "500 millis",
  outboxInterval: "200 millis",
  postponeDelay: "1 second",
  backlogSampleInterval: "300 millis"
}

export const testConfig = (options: TestAppOptions): AppConfigShape => ({
  mode: options.mode ?? "live",
  port: 0,
  databaseUrl: Redacted.make("unused: TestDbLive"),
  kafka: {
    brokers: options.kafkaBrokers ?? testKafkaBrokerList(),
    clientId: `test-${options.groupId}`,
    groupId: options.groupId,
    eventTopics: options.eventTopics,
    maxMessageBytes: options.kafkaMaxMessageBytes ?? 1_000_000
  },
  events: { maxBytes: options.eventMaxBytes ?? 1024 * 1024, maxDepth: 64 },
  adminToken: Redacted.make(options.adminToken ?? adminToken),
  otlpEndpoint: Option.none(),
  webhook: {
    timeoutMs: options.webhookTimeoutMs ?? 2000,
    allowInsecureTargets: options.allowInsecureTargets ?? true,
    breaker: { ...defaultBreakerPolicy, ...options.webhookBreaker }
  },
  credentials: { bcryptCost: options.bcryptCost ?? 4, accessTokenTtlSeconds: 3600 },
  ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
  dataDir: ".data-test"
})

/** Real Kafka with test timings (fast rebalances, new topics seen within a second). */
export const testKafka = (clientId: string, brokers: ReadonlyArray<string> = testKafkaBrokerList()) =>
  Layer.scoped(
    Kafka,
    makeKafkaLive({
      brokers,
      clientId,
      topicRefreshInterval: "1 second",
      consumer: { sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10000, maxWaitTimeInMs: 250 }
    })
  )

/**
 * The service as `serve` runs it, on real PostgreSQL (this run's database) and
 * the real Kafka broker, with an in-memory Vault, a fixed DNS table and the
 * HTTP server on a free port. Provides the infrastructure services so tests
 * can look at the database, Kafka and Vault directly.
 */
export const TestApp = (options: TestAppOptions) => {
  const config = testConfig(options)
  const db = options.database ?? (options.isolatedDatabase ? IsolatedTestDbLive : TestDbLive)
  const infra = Layer.mergeAll(
    NotificationsPg,
    options.passwordHasher ?? PasswordHasherBcrypt(config.credentials.bcryptCost),
    CryptoPrimitivesNode,
    testKafka(config.kafka.clientId, config.kafka.brokers),
    options.vault ?? Layer.effect(Vault, makeVaultTest()),
    Layer.scoped(
      HttpOut,
      makeHttpOutLive({
        defaultTimeoutMs: config.webhook.timeoutMs,
        defaultMaxBodyBytes: 16 * 1024,
        blockPrivateAddresses: !config.webhook.allowInsecureTargets
      })
    ),
    DnsTest(options.dns ?? {}),
    makeHttpServerNode(0, "127.0.0.1")
  ).pipe(Layer.provideMerge(db), Layer.provideMerge(Layer.succeed(AppConfig, config)))

  const timings: DeliveryTimingsShape = { ...fastWorkers, ...options.workers, runEngine: options.withoutWorkers !== true }
  return makeMain(options.registry ?? ConnectorRegistryLive).pipe(
    Layer.provide(Layer.succeed(DeliveryTimings, timings)),
    Layer.provideMerge(infra)
  )
}

/** `http://127.0.0.1:<port>` of the test app's server. */
export const baseUrl = HttpServer.addressFormattedWith((address) => Effect.succeed(address))

/** fetch() against the test app with the admin token. */
export const adminFetch = (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
  Effect.gen(function*() {
    const base = yield* baseUrl
    const response = yield* Effect.promise(() =>
      fetch(`${base}${path}`, {
        method: init.method ?? "GET",
        headers: {
          authorization: `Bearer ${init.token ?? adminToken}`,
          ...(init.body === undefined ? {} : { "content-type": "application/json" })
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
      })
    )
    const text = yield* Effect.promise(() => response.text())
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) as any, headers: response.headers }
  })
