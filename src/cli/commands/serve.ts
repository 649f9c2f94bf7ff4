import { Command } from "@effect/cli"
import { Effect } from "effect"

export const serveCommand = Command.make("serve", {}, () =>
  Effect.flatMap(Effect.promise(() => import("../server/serve.ts")), (m) => m.runServe)).pipe(
  Command.withDescription(
    "Run live: settings and secrets from Vault (VAULT_ADDR, VAULT_TOKEN, VAULT_KV_MOUNT), PostgreSQL, Kafka, OTLP. " +
      "DATABASE_URL, KAFKA_BROKERS and OTEL_EXPORTER_OTLP_ENDPOINT override Vault. Logs: JSON, one object per line."
  )
)
