import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Option, Redacted } from "effect"
import { defaultBreakerPolicy } from "../src/domain/webhooks/breaker.ts"
import { makeAppConfigDev } from "../src/layers/AppConfigDev.ts"
import { jdbcToPostgresUrl, makeAppConfigLive } from "../src/layers/AppConfigLive.ts"
import { makeVaultTest } from "../src/layers/VaultTest.ts"
import { Vault } from "../src/services/Vault.ts"

const secrets = (values: Record<string, Record<string, string>>) =>
  Layer.effect(
    Vault,
    makeVaultTest(
      Object.entries(values).map(([path, data]) =>
        [path, Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Redacted.make(v)]))] as const
      )
    )
  )

const withEnv = (env: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

const complete = {
  "integration-service": {
    "db.url": "jdbc:postgresql://db.internal:5433/integration",
    "db.username": "svc",
    "db.password": "p@ss/word",
    "admin.token": "admin-secret-0123456789abcdefghijklmnop"
  },
  shared: { "kafka.bootstrap.servers": "k1:9092, k2:9092", "otel.exporter.otlp.endpoint": "http://otel:4318" }
}

describe("live configuration", () => {
  it("turns the platform's JDBC URL into a postgres URL with the separate credentials", () => {
    const url = jdbcToPostgresUrl("jdbc:postgresql://db:5432/app?sslmode=require", Option.some("u"), Option.some(Redacted.make("p@ss")))
    expect(Option.map(url, Redacted.value)).toEqual(Option.some("postgres://u:p%40ss@db:5432/app?sslmode=require"))
    expect(jdbcToPostgresUrl("mysql://x", Option.none(), Option.none())).toEqual(Option.none())
  })

  it.effect("reads Vault's layout", () =>
    Effect.gen(function*() {
      const config = yield* makeAppConfigLive
      expect(Redacted.value(config.databaseUrl)).toBe("postgres://svc:p%40ss%2Fword@db.internal:5433/integration")
      expect(config.kafka.brokers).toEqual(["k1:9092", "k2:9092"])
      expect(config.otlpEndpoint).toEqual(Option.some("http://otel:4318"))
      expect(Redacted.value(config.adminToken)).toBe("admin-secret-0123456789abcdefghijklmnop")
      expect(config.port).toBe(8080)
      expect(config.webhook).toEqual({ timeoutMs: 10_000, allowInsecureTargets: false, breaker: defaultBreakerPolicy })
    }).pipe(Effect.provide(secrets(complete)), Effect.provide(withEnv({}))))

  it.effect("lets the environment override Vault", () =>
    Effect.gen(function*() {
      const config = yield* makeAppConfigLive
      expect(Redacted.value(config.databaseUrl)).toBe("postgres://other/db")
      expect(config.kafka.brokers).toEqual(["127.0.0.1:19092"])
      expect(config.otlpEndpoint).toEqual(Option.some("http://collector:4318"))
      expect(config.kafka.eventTopics.test("orders")).toBe(true)
      expect(config.kafka.eventTopics.test("audit")).toBe(false)
      expect(config.databasePreparedStatements).toBe(false)
      expect(config.webhook).toEqual({
        timeoutMs: 2500,
        allowInsecureTargets: true,
        breaker: { failureThreshold: 5, probeInterval: Duration.seconds(30), disableAfter: Duration.hours(48) }
      })
    }).pipe(
      Effect.provide(secrets(complete)),
      Effect.provide(withEnv({
        DATABASE_URL: "postgres://other/db",
        KAFKA_BROKERS: "127.0.0.1:19092",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        KAFKA_EVENT_TOPICS: "^orders$",
        WEBHOOK_TIMEOUT_MS: "2500",
        WEBHOOK_ALLOW_INSECURE_TARGETS: "true",
        WEBHOOK_BREAKER_FAILURES: "5",
        WEBHOOK_BREAKER_PROBE_SECONDS: "30",
        WEBHOOK_DISABLE_AFTER_HOURS: "48",
        DATABASE_PREPARED_STATEMENTS: "false"
      }))
    ))

  it.effect("the default topic pattern skips internal topics and the service's own", () =>
    Effect.gen(function*() {
      const { eventTopics } = (yield* makeAppConfigLive).kafka
      expect(["order.placed", "orders", "inventory.updated"].every((t) => eventTopics.test(t))).toBe(true)
      expect(["__consumer_offsets", "webhook.delivered", "connector.order.imported"].some((t) => eventTopics.test(t)))
        .toBe(false)
    }).pipe(Effect.provide(secrets(complete)), Effect.provide(withEnv({}))))

  it.effect.each([
    ["db.url", { ...complete, "integration-service": { "admin.token": "t" } }, {}],
    ["kafka.bootstrap.servers", { ...complete, shared: {} }, {}],
    ["admin.token", { ...complete, "integration-service": { "db.url": "jdbc:postgresql://h/db" } }, {}],
    ["PORT", complete, { PORT: "http" }],
    ["KAFKA_EVENT_TOPICS", complete, { KAFKA_EVENT_TOPICS: "(" }],
    ["DATABASE_PREPARED_STATEMENTS", complete, { DATABASE_PREPARED_STATEMENTS: "sometimes" }],
    // An admin token of fewer than 32 characters, from Vault or the environment; an empty one most of all.
    ["admin.token", { ...complete, "integration-service": { ...complete["integration-service"], "admin.token": "admin-secret" } }, {}],
    ["admin.token", complete, { ADMIN_TOKEN: "" }],
    ["admin.token", complete, { ADMIN_TOKEN: "x".repeat(31) }]
  ] as const)("a missing or wrong %s fails start-up with one line naming it", ([setting, vault, env]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(makeAppConfigLive)
      expect(error._tag).toBe("ConfigurationError")
      const line = error.message
      expect(line).toContain(setting)
      expect(line.split("\n")).toHaveLength(1)
      expect(line).not.toContain("admin-secret")
      expect(line).not.toContain("x".repeat(31))
    }).pipe(Effect.provide(secrets(vault)), Effect.provide(withEnv(env))))

  it.effect("statements are prepared unless DATABASE_PREPARED_STATEMENTS says false", () =>
    Effect.gen(function*() {
      expect((yield* makeAppConfigLive).databasePreparedStatements).toBe(true)
    }).pipe(Effect.provide(secrets(complete)), Effect.provide(withEnv({}))))

  it.effect("an admin token of exactly 32 characters is accepted", () =>
    Effect.gen(function*() {
      const config = yield* makeAppConfigLive
      expect(Redacted.value(config.adminToken)).toBe("y".repeat(32))
    }).pipe(Effect.provide(secrets(complete)), Effect.provide(withEnv({ ADMIN_TOKEN: "y".repeat(32) }))))
})

describe("dev configuration", () => {
  it.effect("generates an admin token of at least 32 characters and keeps it", () =>
    Effect.gen(function*() {
      const first = yield* makeAppConfigDev(".data-test")
      expect(Redacted.value(first.adminToken).length).toBeGreaterThanOrEqual(32)
      const again = yield* makeAppConfigDev(".data-test")
      expect(Redacted.value(again.adminToken)).toBe(Redacted.value(first.adminToken))
    }).pipe(Effect.provide(secrets({})), Effect.provide(withEnv({}))))

  it.effect("a short ADMIN_TOKEN stops dev start-up too, with one line naming admin.token", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(makeAppConfigDev(".data-test"))
      expect(error._tag).toBe("ConfigurationError")
      expect(error.message).toContain("admin.token")
      expect(error.message.split("\n")).toHaveLength(1)
      expect(error.message).not.toContain("short-token")
    }).pipe(Effect.provide(secrets({})), Effect.provide(withEnv({ ADMIN_TOKEN: "short-token" }))))
})
