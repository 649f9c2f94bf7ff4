#!/usr/bin/env node
import { Command, ValidationError } from "@effect/cli"
// Subpaths, not the barrel: the barrel would bring the HTTP client and server (undici, ws) into every start.
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect } from "effect"
import { connectorsCommand } from "./commands/connectors.ts"
import { credentialsCommand } from "./commands/credentials.ts"
import { deliveriesCommand } from "./commands/deliveries.ts"
import { devCommand } from "./commands/dev.ts"
import { eventsCommand } from "./commands/events.ts"
import { migrateCommand } from "./commands/migrate.ts"
import { receiverCommand } from "./commands/receiver.ts"
import { serveCommand } from "./commands/serve.ts"
import { statusCommand } from "./commands/status.ts"
import { subscriptionsCommand } from "./commands/subscriptions.ts"
import { tidyTerminalOutput } from "./terminal.ts"

const root = Command.make("integration-service").pipe(
  Command.withDescription("ShopSTAR3 integration-service: webhooks, API credentials, marketplace connectors"),
  Command.withSubcommands([
    devCommand,
    serveCommand,
    migrateCommand,
    statusCommand,
    deliveriesCommand,
    subscriptionsCommand,
    connectorsCommand,
    credentialsCommand,
    eventsCommand,
    receiverCommand
  ])
)

const cli = Command.run(root, { name: "integration-service", version: "0.1.0" })

tidyTerminalOutput(process.argv.slice(2))

cli(process.argv).pipe(
  // A bad command line has already been explained by @effect/cli: exit 1 without a logged cause.
  Effect.catchIf(ValidationError.isValidationError, () =>
    Effect.sync(() => {
      process.exitCode = 1
    })),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disablePrettyLogger: true })
)
