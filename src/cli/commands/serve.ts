import { Command } from "@effect/cli"
import { Effect, Layer } from "effect"
import { LiveInfra } from "../../layers/Infra.ts"
import { JsonLogs } from "../../layers/Telemetry.ts"
import { MainLive } from "../../programs/main.ts"
import { oneLineStartupErrors } from "../run.ts"

const ServeLive = MainLive.pipe(Layer.provide(LiveInfra))

export const serveCommand = Command.make("serve", {}, () =>
  oneLineStartupErrors(Layer.launch(ServeLive)).pipe(Effect.provide(JsonLogs))).pipe(
  Command.withDescription(
    "Run live: settings and secrets from Vault (VAULT_ADDR, VAULT_TOKEN, VAULT_KV_MOUNT), PostgreSQL, Kafka, OTLP. " +
      "DATABASE_URL, KAFKA_BROKERS and OTEL_EXPORTER_OTLP_ENDPOINT override Vault."
  )
)
