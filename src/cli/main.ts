#!/usr/bin/env -S npx tsx
import { Command, ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { connectorsCommand } from "./commands/connectors.ts"
import { credentialsCommand } from "./commands/credentials.ts"
import { deliveriesCommand } from "./commands/deliveries.ts"
import { devCommand } from "./commands/dev.ts"
import { eventsCommand } from "./commands/events.ts"
import { migrateCommand } from "./commands/migrate.ts"
import { receiverCommand } from "./commands/receiver.ts"
import { serveCommand } from "./commands/serve.ts"
import { subscriptionsCommand } from "./commands/subscriptions.ts"

const root = Command.make("integration-service").pipe(
  Command.withDescription("ShopSTAR3 integration-service: webhooks, API credentials, marketplace connectors"),
  Command.withSubcommands([
    devCommand,
    serveCommand,
    migrateCommand,
    deliveriesCommand,
    subscriptionsCommand,
    connectorsCommand,
    credentialsCommand,
    eventsCommand,
    receiverCommand
  ])
)

const cli = Command.run(root, { name: "integration-service", version: "0.1.0" })

cli(process.argv).pipe(
  // A bad command line has already been explained by @effect/cli: exit 1 without a logged cause.
  Effect.catchIf(ValidationError.isValidationError, () =>
    Effect.sync(() => {
      process.exitCode = 1
    })),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disablePrettyLogger: true })
)
