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
import { StoreId } from "../EventEnvelope.ts"
import { AdminAuth } from "./auth.ts"
import { Conflict, Forbidden, InvalidRequest, NotFound, ServiceUnavailable } from "./errors.ts"
import { strict } from "./payloads.ts"

const storeId = HttpApiSchema.param("storeId", StoreId)
const configId = HttpApiSchema.param("id", ConfigId)
const runId = HttpApiSchema.param("runId", Schema.UUID)

/** A connector config's outbound runs: listed, shown with their attempts, and re-triggered like webhook deliveries. */
export class ConnectorRunsApi extends HttpApiGroup.make("connectorRuns")
  .add(
    HttpApiEndpoint.get("list")`/stores/${storeId}/connectors/${configId}/runs`
      .setUrlParams(ConnectorRunFilters)
      .addSuccess(ConnectorRunPage)
      .addError(NotFound)
      .addError(InvalidRequest)
      .annotate(OpenApi.Summary, "The config's runs of platform events, newest first (status=DEAD_LETTERED for dead letters)")
  )
  .add(
    HttpApiEndpoint.get("show")`/stores/${storeId}/connectors/${configId}/runs/${runId}`
      .addSuccess(ConnectorRunDetail)
      .addError(NotFound)
  )
  .add(
    HttpApiEndpoint.post("retry")`/stores/${storeId}/connectors/${configId}/runs/${runId}/retry`
      .addSuccess(ConnectorRun, { status: 202 })
      .addError(NotFound)
      .addError(Conflict)
      .annotate(OpenApi.Summary, "Re-trigger a failed or dead-lettered run: now, then the retry table")
  )
  .add(
    HttpApiEndpoint.post("retryMany")`/stores/${storeId}/connectors/${configId}/runs/retry`
      .setPayload(strict(BulkRunRetry))
      .addSuccess(Schema.Struct({ retried: Schema.Int }), { status: 202 })
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Re-trigger every matching run of the config (bulk replay)")
  )
  .addError(Forbidden)
  .addError(ServiceUnavailable)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "Connector runs")
{}
