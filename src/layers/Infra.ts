import { NodeContext } from "@effect/platform-node"
import { Config, Effect, Layer, Option } from "effect"
import { AppConfigDev } from "./AppConfigDev.ts"
import { AppConfigLive } from "./AppConfigLive.ts"
import { preparedStatementsSetting } from "./AppConfigEnv.ts"
import { CryptoPrimitivesNode } from "./CryptoPrimitivesNode.ts"
import { DbDev } from "./DbDev.ts"
import { DbLive, makeDbLive } from "./DbLive.ts"
import { DnsLive } from "./DnsLive.ts"
import { HttpOutLive } from "./HttpOutLive.ts"
import { HttpServerNode } from "./HttpServerNode.ts"
import { KafkaDev } from "./KafkaDev.ts"
import { NotificationsLocal, NotificationsPg } from "./NotificationsPg.ts"
import { PasswordHasherFromConfig } from "./PasswordHasherBcrypt.ts"
import { KafkaLive } from "./KafkaLive.ts"
import { TelemetryLive } from "./Telemetry.ts"
import { VaultDev } from "./VaultDev.ts"
import { VaultLive } from "./VaultLive.ts"

/** Settings come from Vault (and the environment); everything else is built from them. */
const ConfigLive = AppConfigLive.pipe(Layer.provideMerge(VaultLive))

/** Live infrastructure: Vault, PostgreSQL, Kafka, undici, Node's HTTP server, OTLP, JSON logs. */
export const LiveInfra = Layer.mergeAll(
  NotificationsPg,
  KafkaLive,
  HttpOutLive,
  DnsLive,
  PasswordHasherFromConfig,
  CryptoPrimitivesNode,
  HttpServerNode,
  TelemetryLive
).pipe(
  Layer.provideMerge(DbLive),
  Layer.provideMerge(ConfigLive)
)

/**
 * Only the database, for one-off commands (`migrate`): `DATABASE_URL` when set,
 * else Vault's `db.*` settings; DATABASE_PREPARED_STATEMENTS either way.
 */
const dbOnlySettings = Config.all([Config.option(Config.redacted("DATABASE_URL")), preparedStatementsSetting])

export const LiveDbOnly = Layer.unwrapEffect(
  Effect.map(dbOnlySettings, ([url, preparedStatements]) =>
    Option.match(url, {
      onSome: (url) => makeDbLive(url, { maxConnections: 2, preparedStatements }),
      onNone: () => DbLive.pipe(Layer.provide(ConfigLive))
    }))
)

/**
 * Dev infrastructure, nothing to install: PGlite and the file-backed secret
 * store under `dataDir`, the in-process event bus.
 */
export const DevInfra = (dataDir: string) => {
  const VaultFiles = VaultDev(`${dataDir}/secrets`).pipe(Layer.provide(NodeContext.layer))
  const Config = AppConfigDev(dataDir).pipe(Layer.provideMerge(VaultFiles))
  return Layer.mergeAll(
    DbDev(`${dataDir}/pglite`),
    KafkaDev,
    HttpOutLive,
    DnsLive,
    PasswordHasherFromConfig,
    CryptoPrimitivesNode,
    NotificationsLocal,
    HttpServerNode,
    TelemetryLive
  ).pipe(
    Layer.provideMerge(Config)
  )
}
