import { HttpApiBuilder } from "@effect/platform"
import { DateTime, Effect } from "effect"
import { ConnectorRuns } from "../connectors/ConnectorRuns.ts"
import { Api } from "../../domain/api/Api.ts"
import { outagesAnswered } from "./outages.ts"

export const ConnectorRunsHandlers = HttpApiBuilder.group(Api, "connectorRuns", (handlers) =>
  Effect.gen(function*() {
    const runs = yield* ConnectorRuns
    return handlers
      .handle("list", outagesAnswered(({ path, urlParams }) => runs.list(path.storeId, path.id, urlParams)))
      .handle("show", outagesAnswered(({ path }) => runs.show(path.storeId, path.id, path.runId)))
      .handle("retry", outagesAnswered(({ path }) => runs.retry(path.storeId, path.id, path.runId)))
      .handle("retryMany", outagesAnswered(({ path, payload }) =>
        runs.retryMany(path.storeId, path.id, {
          status: payload.status,
          since: payload.since ? DateTime.toDate(payload.since) : undefined
        })))
  }))
