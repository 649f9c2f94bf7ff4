import { Effect, Layer } from "effect"
import { DevInfra } from "../../layers/Infra.ts"
import { DevLogs } from "../../layers/Telemetry.ts"
import { makeDevBanner } from "../../programs/devBanner.ts"
import { MainLive } from "../../programs/main.ts"
import { oneLineStartupErrors, runUntilSignal } from "../run.ts"
import { SandboxLive } from "./sandbox.ts"

export interface DevOptions {
  readonly dataDir: string
  readonly sandbox: boolean
}

/** Loaded only by `dev` (the CLI's other commands never load the server). */
export const runDev = (options: DevOptions) =>
  oneLineStartupErrors(
    // Nothing in dev mode is worth waiting for past a few seconds: Ctrl-C means now.
    runUntilSignal(
      Layer.mergeAll(MainLive, makeDevBanner(), options.sandbox ? SandboxLive : Layer.empty).pipe(
        Layer.provide(DevInfra(options.dataDir))
      ),
      {
        deadline: "4 seconds"
      }
    )
  ).pipe(Effect.provide(DevLogs))
