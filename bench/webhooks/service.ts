/**
 * The service, assembled as `serve` does (src/cli/commands/serve.ts: MainLive +
 * LiveInfra), with an in-memory Vault and fixed settings instead of VaultLive +
 * AppConfigLive (../support/service.ts).
 */
import { Layer, Logger, LogLevel, Option, Redacted } from "effect"
import { KafkaLive } from "../../src/layers/KafkaLive.ts"
import { MainLive } from "../../src/programs/main.ts"
import type { AppConfigShape } from "../../src/services/AppConfig.ts"
import { inProcessInfra } from "../support/service.ts"
import { StatsTracer } from "../support/spanStats.ts"
import { adminToken, eventTopic, runId, settings } from "./settings.ts"

export const serviceConfig = (databaseUrl: string, brokers: ReadonlyArray<string>): AppConfigShape => ({
  mode: "live",
  port: 0,
  databaseUrl: Redacted.make(databaseUrl),
  kafka: {
    brokers,
    clientId: `is-bench-${runId}`,
    groupId: `is-bench-${runId}`,
    eventTopics: new RegExp(`^${eventTopic.replaceAll(".", "\\.")}$`),
    maxMessageBytes: 1_000_000
  },
  events: { maxBytes: 1024 * 1024, maxDepth: 64 },
  adminToken: Redacted.make(adminToken),
  otlpEndpoint: Option.none(),
  // WEBHOOK_TIMEOUT_MS default, WEBHOOK_ALLOW_INSECURE_TARGETS=true (the receiver is http://127.0.0.1)
  webhook: { timeoutMs: 10_000, allowInsecureTargets: true },
  // serve's defaults (CREDENTIAL_BCRYPT_COST, OAUTH_TOKEN_TTL_SECONDS); not used by webhook delivery
  credentials: { bcryptCost: 10, accessTokenTtlSeconds: 3600 },
  dataDir: ".data-bench"
})

// Warnings and errors only, on stderr: stdout is the report.
const logs = Layer.merge(
  Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger)),
  Logger.minimumLogLevel(LogLevel.Warning)
)
const observability = settings.spans ? Layer.merge(logs, StatsTracer) : logs

export const serviceLayer = (config: AppConfigShape) =>
  MainLive.pipe(Layer.provideMerge(inProcessInfra(config, KafkaLive)), Layer.provide(observability))
