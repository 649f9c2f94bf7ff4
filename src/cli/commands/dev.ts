import { Command, Options } from "@effect/cli"
import { Effect } from "effect"

const dataDir = Options.directory("data-dir").pipe(
  Options.withDefault(".data"),
  Options.withDescription("where PGlite's database, the file-backed secrets and dev-server.json (for the CLI) are kept")
)

const sandbox = Options.boolean("sandbox").pipe(
  Options.withDescription(
    "Also start local stand-ins for the Amazon, eBay and Google APIs, and a demo connector of each in store-1 " +
      "pointed at them (with credentials), so that connector runs and polls succeed end to end."
  )
)

export const devCommand = Command.make("dev", { dataDir, sandbox }, (options) =>
  Effect.flatMap(Effect.promise(() => import("../server/dev.ts")), (m) => m.runDev(options))).pipe(
    Command.withDescription(
      "Run in dev mode with nothing installed: PGlite, an in-process event bus, file-backed secrets under --data-dir. " +
        "Prints the address, the admin token and how to publish a test event; logs one logfmt line per entry. " +
        "`npm start -- --sandbox` adds the marketplace stand-ins."
    )
  )
