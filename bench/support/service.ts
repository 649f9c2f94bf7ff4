/**
 * The infrastructure a benchmark gives MainLive when it runs the service
 * in-process: LiveInfra (src/layers/Infra.ts) but for Vault, settings and
 * telemetry — an in-memory Vault and fixed settings instead of VaultLive and
 * AppConfigLive, so a run needs no Vault and no environment — with the HTTP
 * server on a free loopback port.
 */
import { Layer, Logger, LogLevel, Option, Redacted } from "effect"
import { CryptoPrimitivesNode } from "../../src/layers/CryptoPrimitivesNode.ts"
import { DbLive } from "../../src/layers/DbLive.ts"
import { DnsLive } from "../../src/layers/DnsLive.ts"
import { HttpOutLive } from "../../src/layers/HttpOutLive.ts"
import { makeHttpServerNode } from "../../src/layers/HttpServerNode.ts"
import type { KafkaDev } from "../../src/layers/KafkaDev.ts"
import type { KafkaLive } from "../../src/layers/KafkaLive.ts"
import { NotificationsPg } from "../../src/layers/NotificationsPg.ts"
import { PasswordHasherFromConfig } from "../../src/layers/PasswordHasherBcrypt.ts"
import { makeVaultTest } from "../../src/layers/VaultTest.ts"
import { AppConfig, type AppConfigShape } from "../../src/services/AppConfig.ts"
import { Vault } from "../../src/services/Vault.ts"

/** `kafka`: KafkaLive for a real broker, KafkaDev for the in-process bus. */
export const inProcessInfra = (config: AppConfigShape, kafka: typeof KafkaLive | typeof KafkaDev) =>
  Layer.mergeAll(
    NotificationsPg,
    kafka,
    HttpOutLive,
    DnsLive,
    PasswordHasherFromConfig,
    CryptoPrimitivesNode,
    makeHttpServerNode(0, "127.0.0.1"),
    Layer.effect(Vault, makeVaultTest())
  ).pipe(Layer.provideMerge(DbLive), Layer.provideMerge(Layer.succeed(AppConfig, config)))

export interface BenchServiceSettings {
  readonly databaseUrl: string
  readonly brokers: ReadonlyArray<string>
  /** The Kafka client id and consumer group (one per run). */
  readonly clientId: string
  readonly eventTopics: RegExp
  readonly adminToken: string
  /** WEBHOOK_TIMEOUT_MS (default 10 s, serve's). */
  readonly webhookTimeoutMs?: number
  /** CREDENTIAL_BCRYPT_COST (default 10, serve's). */
  readonly bcryptCost?: number
}

/**
 * The settings a benchmark runs the service with: serve's defaults, insecure
 * targets allowed (its receivers are http://127.0.0.1), no OTLP.
 */
export const benchServiceConfig = (s: BenchServiceSettings): AppConfigShape => ({
  mode: "live",
  port: 0,
  databaseUrl: Redacted.make(s.databaseUrl),
  kafka: { brokers: s.brokers, clientId: s.clientId, groupId: s.clientId, eventTopics: s.eventTopics, maxMessageBytes: 1_000_000 },
  events: { maxBytes: 1024 * 1024, maxDepth: 64 },
  adminToken: Redacted.make(s.adminToken),
  otlpEndpoint: Option.none(),
  webhook: { timeoutMs: s.webhookTimeoutMs ?? 10_000, allowInsecureTargets: true },
  credentials: { bcryptCost: s.bcryptCost ?? 10, accessTokenTtlSeconds: 3600 },
  dataDir: ".data-bench"
})

/** The service's warnings and errors only, as logfmt on stderr: stdout is the report. */
export const warningLogs = Layer.merge(
  Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger)),
  Logger.minimumLogLevel(LogLevel.Warning)
)
