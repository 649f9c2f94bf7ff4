#!/usr/bin/env -S npx tsx
import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { devCommand } from "./commands/dev.ts"
import { migrateCommand } from "./commands/migrate.ts"
import { serveCommand } from "./commands/serve.ts"

const root = Command.make("integration-service").pipe(
  Command.withDescription("ShopSTAR3 integration-service: webhooks, API credentials, marketplace connectors"),
  Command.withSubcommands([devCommand, serveCommand, migrateCommand])
)

const cli = Command.run(root, { name: "integration-service", version: "0.1.0" })

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain({ disablePrettyLogger: true }))
