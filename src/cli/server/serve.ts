import { Effect, Layer } from "effect"
import { LiveInfra } from "../../layers/Infra.ts"
import { JsonLogs } from "../../layers/Telemetry.ts"
import { MainLive } from "../../programs/main.ts"
import { oneLineStartupErrors, runUntilSignal } from "../run.ts"
import { boundHeapGrowth } from "./heapGrowth.ts"

/** Loaded only by `serve` (the CLI's other commands never load the server). */
const ServeLive = MainLive.pipe(Layer.provide(LiveInfra))

export const runServe = boundHeapGrowth.pipe(
  Effect.zipRight(oneLineStartupErrors(runUntilSignal(ServeLive))),
  Effect.provide(JsonLogs)
)
