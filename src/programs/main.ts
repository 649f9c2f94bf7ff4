import { Layer } from "effect"
import { ConnectorPolling } from "./connectors/ConnectorPolling.ts"
import { ConnectorRuntime } from "./connectors/ConnectorRuntime.ts"
import { ConnectorRegistryLive } from "./connectors/registry.ts"
import { CredentialValidator } from "./credentials/CredentialValidator.ts"
import { HttpApiLive } from "./http/HttpApiLive.ts"
import { MigrationsLive } from "./migrate.ts"
import { DeliverySignalsLive } from "./webhooks/DeliverySignals.ts"
import { DeliveryWorkersLive } from "./webhooks/DeliveryWorkers.ts"
import { FanOutConsumerLive } from "./webhooks/FanOutConsumer.ts"
import { SigningSecrets } from "./webhooks/SigningSecrets.ts"

/**
 * Everything the service runs: the HTTP API, the Kafka fan-out consumer, the
 * delivery workers (webhooks and connector runs) and the connector pollers,
 * each scoped: their fibers stop when the layer is released. The migrations
 * complete first.
 * Infrastructure (Db, Kafka, Vault, HttpOut, Dns, PasswordHasher, Notifications, HttpServer, AppConfig) is
 * provided by `LiveInfra` or `DevInfra` (src/layers/Infra.ts).
 */
export const MainLive = Layer.mergeAll(HttpApiLive, FanOutConsumerLive, DeliveryWorkersLive).pipe(
  Layer.provide(ConnectorPolling.Default),
  Layer.provide([DeliverySignalsLive, SigningSecrets.Default, CredentialValidator.Default]),
  Layer.provideMerge(ConnectorRuntime.Default),
  Layer.provide(ConnectorRegistryLive),
  Layer.provide(MigrationsLive)
)
