import { Effect, Layer, Option, Redacted } from "effect"
import { AppConfig } from "../services/AppConfig.ts"
import { type SecretData, Vault } from "../services/Vault.ts"
import { checkAdminToken, ConfigurationError, envSettingsOf, kafkaSettingsOf, readEnvSettings, splitBrokers } from "./AppConfigEnv.ts"

/** Vault secrets (under the KV mount) holding the service's settings, per SPEC.md "Vault layout". */
export const serviceSecretPath = "integration-service"
export const sharedSecretPath = "shared"

/**
 * The platform stores `jdbc:postgresql://host:port/db` with the user and
 * password as separate keys; `pg` wants one `postgres://` URL.
 */
export const jdbcToPostgresUrl = (
  jdbc: string,
  username: Option.Option<string>,
  password: Option.Option<Redacted.Redacted<string>>
): Option.Option<Redacted.Redacted<string>> => {
  const match = /^jdbc:postgresql:\/\/([^/?]+)(\/[^?]*)?(\?.*)?$/.exec(jdbc.trim())
  if (match === null) return Option.none()
  const url = new URL(`postgres://${match[1]}${match[2] ?? "/"}${match[3] ?? ""}`)
  // JDBC puts credentials in the query string; explicit keys win over it.
  const user = Option.orElse(username, () => Option.fromNullable(url.searchParams.get("user")))
  const pass = Option.orElse(
    Option.map(password, Redacted.value),
    () => Option.fromNullable(url.searchParams.get("password"))
  )
  url.searchParams.delete("user")
  url.searchParams.delete("password")
  if (Option.isSome(user)) url.username = encodeURIComponent(user.value)
  if (Option.isSome(pass)) url.password = encodeURIComponent(pass.value)
  return Option.some(Redacted.make(url.toString()))
}

const key = (secret: Option.Option<SecretData>, name: string) =>
  Option.flatMap(secret, (data) => Option.fromNullable(data[name]))

const orFail = <A>(value: Option.Option<A>, setting: string, problem: string): Effect.Effect<A, ConfigurationError> =>
  Option.match(value, {
    onNone: () => Effect.fail(new ConfigurationError({ setting, problem })),
    onSome: Effect.succeed
  })

const required = <A>(value: Option.Option<A>, setting: string, where: string) =>
  orFail(value, setting, `is missing (${where})`)

export const makeAppConfigLive = Effect.gen(function*() {
  const env = yield* readEnvSettings
  const vault = yield* Vault
  const service = yield* vault.read(serviceSecretPath)
  const shared = yield* vault.read(sharedSecretPath)

  const databaseUrl = yield* Option.match(env.databaseUrl, {
    onSome: (url) => Effect.succeed(url),
    onNone: () =>
      Effect.gen(function*() {
        const jdbc = yield* required(
          key(service, "db.url"),
          "db.url",
          `Vault secret ${serviceSecretPath} key db.url, or DATABASE_URL`
        )
        return yield* orFail(
          jdbcToPostgresUrl(
            Redacted.value(jdbc),
            Option.map(key(service, "db.username"), Redacted.value),
            key(service, "db.password")
          ),
          "db.url",
          "is not a jdbc:postgresql://host:port/db URL"
        )
      })
  })

  const brokers = yield* Option.match(env.kafkaBrokers, {
    onSome: (list) => Effect.succeed(splitBrokers(list)),
    onNone: () =>
      required(
        Option.map(key(shared, "kafka.bootstrap.servers"), (v) => splitBrokers(Redacted.value(v))),
        "kafka.bootstrap.servers",
        `Vault secret ${sharedSecretPath} key kafka.bootstrap.servers, or KAFKA_BROKERS`
      )
  })
  if (brokers.length === 0) {
    return yield* new ConfigurationError({ setting: "KAFKA_BROKERS", problem: "names no broker" })
  }

  const adminToken = yield* required(
    Option.orElse(env.adminToken, () => key(service, "admin.token")),
    "admin.token",
    `Vault secret ${serviceSecretPath} key admin.token, or ADMIN_TOKEN`
  ).pipe(Effect.flatMap(checkAdminToken))

  const otlpEndpoint = Option.orElse(
    env.otlpEndpoint,
    () => Option.map(key(shared, "otel.exporter.otlp.endpoint"), Redacted.value)
  )

  return AppConfig.of({
    mode: "live",
    port: env.port,
    databaseUrl,
    databasePreparedStatements: env.databasePreparedStatements,
    kafka: kafkaSettingsOf(env, brokers),
    adminToken,
    otlpEndpoint,
    ...envSettingsOf(env, env.allowInsecureTargets),
    dataDir: ".data"
  })
})

/** Live settings: Vault, with the environment overriding it. Requires `Vault`. */
export const AppConfigLive = Layer.effect(AppConfig, makeAppConfigLive)
