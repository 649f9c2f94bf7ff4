import { Effect, Layer, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { AppConfig } from "../services/AppConfig.ts"
import { Vault } from "../services/Vault.ts"
import { checkAdminToken, envSettingsOf, kafkaSettingsOf, readEnvSettings } from "./AppConfigEnv.ts"
import { serviceSecretPath } from "./AppConfigLive.ts"

/**
 * Dev-mode settings: embedded defaults, the environment still wins. The admin
 * token is generated on first start and kept in the (file-backed) secret store,
 * so it stays the same across restarts.
 */
export const makeAppConfigDev = (dataDir: string) =>
  Effect.gen(function*() {
    const env = yield* readEnvSettings
    const vault = yield* Vault
    const stored = yield* vault.read(serviceSecretPath)
    const existing = Option.orElse(
      env.adminToken,
      () => Option.flatMap(stored, (data) => Option.fromNullable(data["admin.token"]))
    )
    const adminToken = yield* Option.match(existing, {
      onSome: Effect.succeed,
      onNone: () => {
        const token = Redacted.make(`dev_admin_${randomBytes(24).toString("base64url")}`)
        return Effect.as(
          vault.write(serviceSecretPath, { ...Option.getOrElse(stored, () => ({})), "admin.token": token }),
          token
        )
      }
    }).pipe(Effect.flatMap(checkAdminToken))
    return AppConfig.of({
      mode: "dev",
      port: env.port,
      databaseUrl: Redacted.make(`pglite://${dataDir}/pglite`),
      kafka: kafkaSettingsOf(env, ["in-process"]),
      adminToken,
      otlpEndpoint: env.otlpEndpoint,
      // Dev mode delivers to local receivers: http://localhost targets are allowed.
      ...envSettingsOf(env, true),
      dataDir
    })
  })

export const AppConfigDev = (dataDir: string) => Layer.effect(AppConfig, makeAppConfigDev(dataDir))
