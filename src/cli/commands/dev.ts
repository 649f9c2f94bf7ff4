import { Command, Options } from "@effect/cli"
import { Effect, Layer, Logger } from "effect"
import { DevInfra } from "../../layers/Infra.ts"
import { DevBannerLive } from "../../programs/devBanner.ts"
import { MainLive } from "../../programs/main.ts"
import { oneLineStartupErrors } from "../run.ts"

const dataDir = Options.directory("data-dir").pipe(
  Options.withDefault(".data"),
  Options.withDescription("where PGlite's database and the file-backed secrets are kept")
)

export const devCommand = Command.make("dev", { dataDir }, ({ dataDir }) =>
  oneLineStartupErrors(
    Layer.launch(Layer.merge(MainLive, DevBannerLive).pipe(Layer.provide(DevInfra(dataDir))))
  ).pipe(Effect.provide(Logger.pretty))).pipe(
    Command.withDescription(
      "Run in dev mode with nothing installed: PGlite, an in-process event bus, file-backed secrets under --data-dir. " +
        "Prints the address, the admin token and how to publish a test event."
    )
  )
