/**
 * The service, assembled as `serve` does (src/cli/commands/serve.ts: MainLive +
 * LiveInfra), with an in-memory Vault and fixed settings instead of VaultLive +
 * AppConfigLive (../support/service.ts).
 */
import { Layer } from "effect"
import { KafkaLive } from "../../src/layers/KafkaLive.ts"
import { MainLive } from "../../src/programs/main.ts"
import type { AppConfigShape } from "../../src/services/AppConfig.ts"
import { benchServiceConfig, inProcessInfra, warningLogs } from "../support/service.ts"
import { StatsTracer } from "../support/spanStats.ts"
import { adminToken, eventTopic, runId, settings } from "./settings.ts"

export const serviceConfig = (databaseUrl: string, brokers: ReadonlyArray<string>): AppConfigShape =>
  benchServiceConfig({
    databaseUrl,
    brokers,
    clientId: `is-bench-${runId}`,
    eventTopics: new RegExp(`^${eventTopic.replaceAll(".", "\\.")}$`),
    adminToken
  })

const observability = settings.spans ? Layer.merge(warningLogs, StatsTracer) : warningLogs

export const serviceLayer = (config: AppConfigShape) =>
  MainLive.pipe(Layer.provideMerge(inProcessInfra(config, KafkaLive)), Layer.provide(observability))
