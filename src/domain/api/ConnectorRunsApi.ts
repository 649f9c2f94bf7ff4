import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import {
  BulkRunRetry,
  ConfigId,
  ConnectorRun,
  ConnectorRunDetail,
  ConnectorRunFilters,
  ConnectorRunPage
} from "../connectors/models.ts"
import { AdminAuth } from "./auth.ts"
import { Conflict, InvalidRequest, NotFound } from "./errors.ts"
import { guardedBy, storeIdParam } from "./groups.ts"
import { strict } from "./payloads.ts"

const configId = HttpApiSchema.param("id", ConfigId)
const runId = HttpApiSchema.param("runId", Schema.UUID)

/** A connector config's outbound runs: listed, shown with their attempts, and re-triggered like webhook deliveries. */
export class ConnectorRunsApi extends HttpApiGroup.make("connectorRuns")
  .add(
    HttpApiEndpoint.get("list")`/stores/${storeIdParam}/connectors/${configId}/runs`
      .setUrlParams(ConnectorRunFilters)
      .addSuccess(ConnectorRunPage)
      .addError(NotFound)
      .addError(InvalidRequest)
      .annotate(OpenApi.Summary, "The config's runs of platform events, newest first (status=DEAD_LETTERED for dead letters)")
  )
  .add(
    HttpApiEndpoint.get("show")`/stores/${storeIdParam}/connectors/${configId}/runs/${runId}`
      .addSuccess(ConnectorRunDetail)
      .addError(NotFound)
  )
  .add(
    HttpApiEndpoint.post("retry")`/stores/${storeIdParam}/connectors/${configId}/runs/${runId}/retry`
      .addSuccess(ConnectorRun, { status: 202 })
      .addError(NotFound)
      .addError(Conflict)
      .annotate(OpenApi.Summary, "Re-trigger a failed or dead-lettered run: now, then the retry table")
  )
  .add(
    HttpApiEndpoint.post("retryMany")`/stores/${storeIdParam}/connectors/${configId}/runs/retry`
      .setPayload(strict(BulkRunRetry))
      .addSuccess(Schema.Struct({ retried: Schema.Int }), { status: 202 })
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Re-trigger every matching run of the config (bulk replay)")
  )
  .pipe(guardedBy(AdminAuth, "Connector runs"))
{}
