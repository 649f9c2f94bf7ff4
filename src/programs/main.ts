import { Effect, Layer } from "effect"
import { ConsoleAssetsNode } from "../layers/ConsoleAssetsNode.ts"
import { ConnectorConfigsRepoSql } from "../layers/ConnectorConfigsRepoSql.ts"
import { ConnectorPollStateSql } from "../layers/ConnectorPollStateSql.ts"
import { CredentialsRepoSql } from "../layers/CredentialsRepoSql.ts"
import { DeliveriesRepoSql } from "../layers/DeliveriesRepoSql.ts"
import { DeliveryStoreSql } from "../layers/DeliveryStoreSql.ts"
import { OpsStatusSql } from "../layers/OpsStatusSql.ts"
import { SubscriptionsRepoSql } from "../layers/SubscriptionsRepoSql.ts"
import { makeConnectorLane } from "./connectors/ConnectorLane.ts"
import { ConnectorPolling } from "./connectors/ConnectorPolling.ts"
import { ConnectorRuns } from "./connectors/ConnectorRuns.ts"
import { Connectors } from "./connectors/Connectors.ts"
import type { ConnectorRegistry } from "./connectors/ConnectorRegistry.ts"
import { ConnectorRuntime } from "./connectors/ConnectorRuntime.ts"
import { ConnectorRegistryLive } from "./connectors/registry.ts"
import { Credentials } from "./credentials/Credentials.ts"
import { CredentialValidator } from "./credentials/CredentialValidator.ts"
import { DeliveryEngineLive } from "./delivery/DeliveryEngine.ts"
import { DeliveryLanes } from "./delivery/DeliveryLane.ts"
import { DeliverySignalsLive } from "./delivery/DeliverySignals.ts"
import { FanOutConsumerLive } from "./fanout/FanOutConsumer.ts"
import { HttpApiLive } from "./http/HttpApiLive.ts"
import { MigrationsLive } from "./migrate.ts"
import { SigningSecrets } from "./webhooks/SigningSecrets.ts"
import { Subscriptions } from "./webhooks/Subscriptions.ts"
import { WebhookDeliveries } from "./webhooks/WebhookDeliveries.ts"
import { WebhookGauges } from "./webhooks/WebhookGauges.ts"
import { makeWebhookLane } from "./webhooks/WebhookLane.ts"

/** The kinds of delivery the engine runs: webhook POSTs and connector runs, each in its own lane. */
const DeliveryLanesLive = Layer.effect(DeliveryLanes, Effect.all([makeWebhookLane, makeConnectorLane]))

/**
 * One instance's delivery engine with its lanes, needing only the signals and
 * the infrastructure (a test starts a second "instance" on the same database
 * with it). Inside MainLive its SigningSecrets and ConnectorRuntime are the
 * ones the HTTP API uses (layers are shared by reference within one build).
 */
export const DeliveryEngineWithLanes = DeliveryEngineLive.pipe(
  Layer.provide(DeliveryLanesLive),
  Layer.provide([SigningSecrets.Default, ConnectorRuntime.Default]),
  Layer.provide([DeliveryStoreSql, ConnectorConfigsRepoSql])
)

/**
 * Everything the service runs: the HTTP API, the Kafka fan-out consumer, the
 * delivery engine (webhooks and connector runs) and the connector pollers,
 * each scoped: their fibers stop when the layer is released. The migrations
 * complete first.
 * `connectors` are the connector types it runs (tests add their own).
 * Infrastructure (Db, Kafka, Vault, HttpOut, Dns, PasswordHasher, Notifications, HttpServer, AppConfig) is
 * provided by `LiveInfra` or `DevInfra` (src/layers/Infra.ts).
 */
export const makeMain = (connectors: Layer.Layer<ConnectorRegistry>) =>
  Layer.mergeAll(HttpApiLive, FanOutConsumerLive, DeliveryEngineWithLanes).pipe(
    Layer.provide([
      Subscriptions.Default,
      WebhookDeliveries.Default,
      WebhookGauges.Default,
      Connectors.Default,
      ConnectorRuns.Default,
      Credentials.Default
    ]),
    Layer.provide(ConnectorPolling.Default),
    Layer.provide([DeliverySignalsLive, SigningSecrets.Default, CredentialValidator.Default]),
    Layer.provide(ConnectorRuntime.Default),
    Layer.provide(connectors),
    Layer.provide([
      DeliveryStoreSql,
      DeliveriesRepoSql,
      SubscriptionsRepoSql,
      ConnectorConfigsRepoSql,
      ConnectorPollStateSql,
      CredentialsRepoSql,
      ConsoleAssetsNode,
      OpsStatusSql
    ]),
    Layer.provide(MigrationsLive)
  )

/** The service with every connector it ships (src/programs/connectors/registry.ts). */
export const MainLive = makeMain(ConnectorRegistryLive)
