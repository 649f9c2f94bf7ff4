import { Layer } from "effect"
import { CredentialValidator } from "./credentials/CredentialValidator.ts"
import { HttpApiLive } from "./http/HttpApiLive.ts"
import { MigrationsLive } from "./migrate.ts"
import { DeliverySignalsLive } from "./webhooks/DeliverySignals.ts"
import { DeliveryWorkersLive } from "./webhooks/DeliveryWorkers.ts"
import { FanOutConsumerLive } from "./webhooks/FanOutConsumer.ts"
import { SigningSecrets } from "./webhooks/SigningSecrets.ts"

/**
 * Everything the service runs: the HTTP API and (as they are added) the Kafka
 * consumers, delivery workers and pollers, each a scoped layer whose fibers
 * stop when the layer is released. The migrations complete first.
 * Infrastructure (Db, Kafka, Vault, HttpOut, Dns, PasswordHasher, Notifications, HttpServer, AppConfig) is
 * provided by `LiveInfra` or `DevInfra` (src/layers/Infra.ts).
 */
export const MainLive = Layer.mergeAll(HttpApiLive, FanOutConsumerLive, DeliveryWorkersLive).pipe(
  Layer.provide([DeliverySignalsLive, SigningSecrets.Default, CredentialValidator.Default]),
  Layer.provide(MigrationsLive)
)
