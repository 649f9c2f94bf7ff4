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

/** A whole number within [min, max], or `fallback` when the variable is not set. */
const between = (name: string, min: number, max: number, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: `must be between ${min} and ${max}`, validation: (n) => n >= min && n <= max }),
    Config.withDefault(fallback)
  )

/** DATABASE_PREPARED_STATEMENTS (default true): read by the service's settings and by one-off commands alike. */
export const preparedStatementsSetting = Config.boolean("DATABASE_PREPARED_STATEMENTS").pipe(Config.withDefault(true))

/** Settings that only ever come from the environment, in live and dev mode alike. */
const envSettings = Config.all({
  // 0 lets the OS pick a free port (tests).
  port: Config.integer("PORT").pipe(
    Config.validate({ message: "must be a port number (0-65535)", validation: (n) => n >= 0 && n <= 65_535 }),
    Config.withDefault(8080)
  ),
  eventTopics: regex("KAFKA_EVENT_TOPICS").pipe(Config.withDefault(defaultEventTopics)),
  webhookTimeoutMs: between("WEBHOOK_TIMEOUT_MS", 100, 120_000, 10_000),
  allowInsecureTargets: Config.boolean("WEBHOOK_ALLOW_INSECURE_TARGETS").pipe(Config.withDefault(false)),
  breakerFailures: between("WEBHOOK_BREAKER_FAILURES", 1, 100_000, 20),
  breakerProbeSeconds: between("WEBHOOK_BREAKER_PROBE_SECONDS", 1, 86_400, 60),
  disableAfterHours: between("WEBHOOK_DISABLE_AFTER_HOURS", 1, 8760, 120),
  bcryptCost: between("CREDENTIAL_BCRYPT_COST", 4, 15, 10),
  accessTokenTtlSeconds: between("OAUTH_TOKEN_TTL_SECONDS", 60, 86_400, 3600),
  maxBodyBytes: between("HTTP_MAX_BODY_BYTES", 1024, 10 * 1024 * 1024, 64 * 1024),
  kafkaMaxMessageBytes: between("KAFKA_MAX_MESSAGE_BYTES", 10_000, 100_000_000, 1_000_000),
  eventMaxBytes: between("EVENT_MAX_BYTES", 1024, 100_000_000, 1024 * 1024),
  eventMaxDepth: between("EVENT_MAX_DEPTH", 2, 1000, 64),
  databaseUrl: Config.option(Config.redacted("DATABASE_URL")),
  databasePreparedStatements: preparedStatementsSetting,
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
