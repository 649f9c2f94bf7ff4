import { NodeContext } from "@effect/platform-node"
import { Layer } from "effect"
import { AppConfigDev } from "./AppConfigDev.ts"
import { AppConfigLive } from "./AppConfigLive.ts"
import { DbDev } from "./DbDev.ts"
import { DbLive } from "./DbLive.ts"
import { HttpOutLive } from "./HttpOutLive.ts"
import { HttpServerNode } from "./HttpServerNode.ts"
import { KafkaDev } from "./KafkaDev.ts"
import { KafkaLive } from "./KafkaLive.ts"
import { JsonLogs, TelemetryLive } from "./Telemetry.ts"
import { VaultDev } from "./VaultDev.ts"
import { VaultLive } from "./VaultLive.ts"

/** Settings come from Vault (and the environment); everything else is built from them. */
const ConfigLive = AppConfigLive.pipe(Layer.provideMerge(VaultLive))

/** Live infrastructure: Vault, PostgreSQL, Kafka, undici, Node's HTTP server, OTLP, JSON logs. */
export const LiveInfra = Layer.mergeAll(DbLive, KafkaLive, HttpOutLive, HttpServerNode, TelemetryLive, JsonLogs).pipe(
  Layer.provideMerge(ConfigLive)
)

/** Live infrastructure for one-off commands that only need the database (`migrate`). */
export const LiveDbOnly = DbLive.pipe(Layer.provideMerge(ConfigLive), Layer.provide(JsonLogs))

/**
 * Dev infrastructure, nothing to install: PGlite and the file-backed secret
 * store under `dataDir`, the in-process event bus.
 */
export const DevInfra = (dataDir: string) => {
  const VaultFiles = VaultDev(`${dataDir}/secrets`).pipe(Layer.provide(NodeContext.layer))
  const Config = AppConfigDev(dataDir).pipe(Layer.provideMerge(VaultFiles))
  return Layer.mergeAll(DbDev(`${dataDir}/pglite`), KafkaDev, HttpOutLive, HttpServerNode, TelemetryLive).pipe(
    Layer.provideMerge(Config)
  )
}
