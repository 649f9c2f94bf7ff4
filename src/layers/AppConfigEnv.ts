import { Config, ConfigError, Data, Duration, Effect, Either, Redacted } from "effect"
import type { BreakerPolicy } from "../domain/webhooks/breaker.ts"
import { defaultEventTopics, minAdminTokenLength } from "../services/AppConfig.ts"

/** A setting that is missing or wrong: start-up fails with this one line. */
export class ConfigurationError extends Data.TaggedError("ConfigurationError")<{
  readonly setting: string
  readonly problem: string
}> {
  override get message() {
    return `configuration: ${this.setting} ${this.problem}`
  }
}

const regex = (name: string) =>
  Config.string(name).pipe(
    Config.mapOrFail((source) => {
      try {
        return Either.right(new RegExp(source))
      } catch {
        return Either.left(ConfigError.InvalidData([name], "is not a valid regular expression"))
      }
    })
  )

/** Settings that only ever come from the environment, in live and dev mode alike. */
const envSettings = Config.all({
  // 0 lets the OS pick a free port (tests).
  port: Config.integer("PORT").pipe(
    Config.validate({ message: "must be a port number (0-65535)", validation: (n) => n >= 0 && n <= 65_535 }),
    Config.withDefault(8080)
  ),
  eventTopics: regex("KAFKA_EVENT_TOPICS").pipe(Config.withDefault(defaultEventTopics)),
  webhookTimeoutMs: Config.integer("WEBHOOK_TIMEOUT_MS").pipe(
    Config.validate({ message: "must be between 100 and 120000", validation: (n) => n >= 100 && n <= 120_000 }),
    Config.withDefault(10_000)
  ),
  allowInsecureTargets: Config.boolean("WEBHOOK_ALLOW_INSECURE_TARGETS").pipe(Config.withDefault(false)),
  breakerFailures: Config.integer("WEBHOOK_BREAKER_FAILURES").pipe(
    Config.validate({ message: "must be between 1 and 100000", validation: (n) => n >= 1 && n <= 100_000 }),
    Config.withDefault(20)
  ),
  breakerProbeSeconds: Config.integer("WEBHOOK_BREAKER_PROBE_SECONDS").pipe(
    Config.validate({ message: "must be between 1 and 86400", validation: (n) => n >= 1 && n <= 86_400 }),
    Config.withDefault(60)
  ),
  disableAfterHours: Config.integer("WEBHOOK_DISABLE_AFTER_HOURS").pipe(
    Config.validate({ message: "must be between 1 and 8760", validation: (n) => n >= 1 && n <= 8760 }),
    Config.withDefault(120)
  ),
  bcryptCost: Config.integer("CREDENTIAL_BCRYPT_COST").pipe(
    Config.validate({ message: "must be between 4 and 15", validation: (n) => n >= 4 && n <= 15 }),
    Config.withDefault(10)
  ),
  accessTokenTtlSeconds: Config.integer("OAUTH_TOKEN_TTL_SECONDS").pipe(
    Config.validate({ message: "must be between 60 and 86400", validation: (n) => n >= 60 && n <= 86_400 }),
    Config.withDefault(3600)
  ),
  maxBodyBytes: Config.integer("HTTP_MAX_BODY_BYTES").pipe(
    Config.validate({ message: "must be between 1024 and 10485760", validation: (n) => n >= 1024 && n <= 10 * 1024 * 1024 }),
    Config.withDefault(64 * 1024)
  ),
  kafkaMaxMessageBytes: Config.integer("KAFKA_MAX_MESSAGE_BYTES").pipe(
    Config.validate({ message: "must be between 10000 and 100000000", validation: (n) => n >= 10_000 && n <= 100_000_000 }),
    Config.withDefault(1_000_000)
  ),
  eventMaxBytes: Config.integer("EVENT_MAX_BYTES").pipe(
    Config.validate({ message: "must be between 1024 and 100000000", validation: (n) => n >= 1024 && n <= 100_000_000 }),
    Config.withDefault(1024 * 1024)
  ),
  eventMaxDepth: Config.integer("EVENT_MAX_DEPTH").pipe(
    Config.validate({ message: "must be between 2 and 1000", validation: (n) => n >= 2 && n <= 1000 }),
    Config.withDefault(64)
  ),
  databaseUrl: Config.option(Config.redacted("DATABASE_URL")),
  kafkaBrokers: Config.option(Config.nonEmptyString("KAFKA_BROKERS")),
  otlpEndpoint: Config.option(Config.nonEmptyString("OTEL_EXPORTER_OTLP_ENDPOINT")),
  adminToken: Config.option(Config.redacted("ADMIN_TOKEN"))
})

export type EnvSettings = Config.Config.Success<typeof envSettings>

/** Reads the environment; a wrong value fails with one line naming the variable. */
export const readEnvSettings: Effect.Effect<EnvSettings, ConfigurationError> = Effect.mapError(
  envSettings,
  (error) => {
    const text = String(error)
    const setting = /\b([A-Z][A-Z0-9_]+)\b/.exec(text)?.[1] ?? "environment"
    const problem = /(Expected .*?|must .*?|is not .*?)"?\)?$/m.exec(text)?.[1] ?? "is invalid"
    return new ConfigurationError({ setting, problem: problem.startsWith("Expected") ? `is invalid: ${problem}` : problem })
  }
)

/**
 * An admin token anyone could guess (or an empty one, which would match an
 * empty Authorization) stops start-up.
 */
export const checkAdminToken = (token: Redacted.Redacted<string>): Effect.Effect<Redacted.Redacted<string>, ConfigurationError> =>
  Redacted.value(token).length >= minAdminTokenLength
    ? Effect.succeed(token)
    : Effect.fail(new ConfigurationError({ setting: "admin.token", problem: `must be at least ${minAdminTokenLength} characters (Vault secret integration-service key admin.token, or ADMIN_TOKEN)` }))

export const splitBrokers = (value: string): ReadonlyArray<string> =>
  value.split(",").map((b) => b.trim()).filter((b) => b.length > 0)

/** The endpoints' circuit breaker as the environment sets it. */
export const breakerPolicyOf = (env: EnvSettings): BreakerPolicy => ({
  failureThreshold: env.breakerFailures,
  probeInterval: Duration.seconds(env.breakerProbeSeconds),
  disableAfter: Duration.hours(env.disableAfterHours)
})

/** The Kafka settings both modes take from the environment, on `brokers` (the in-process bus in dev mode). */
export const kafkaSettingsOf = (env: EnvSettings, brokers: ReadonlyArray<string>) => ({
  brokers,
  clientId: "integration-service",
  groupId: "integration-service",
  eventTopics: env.eventTopics,
  maxMessageBytes: env.kafkaMaxMessageBytes
})

/** What both modes read from the environment alone: event limits, webhook timeouts and breaker, credentials, bodies. */
export const envSettingsOf = (env: EnvSettings, allowInsecureTargets: boolean) => ({
  events: { maxBytes: env.eventMaxBytes, maxDepth: env.eventMaxDepth },
  webhook: { timeoutMs: env.webhookTimeoutMs, allowInsecureTargets, breaker: breakerPolicyOf(env) },
  credentials: { bcryptCost: env.bcryptCost, accessTokenTtlSeconds: env.accessTokenTtlSeconds },
  maxBodyBytes: env.maxBodyBytes
})
