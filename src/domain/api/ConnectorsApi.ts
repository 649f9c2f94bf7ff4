import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import {
  ConfigId,
  ConnectorConfig,
  ConnectorCredentials,
  CreateConnectorConfig,
  SyncLogEntry,
  UpdateConnectorConfig
} from "../connectors/models.ts"
import { StoreId } from "../EventEnvelope.ts"
import { AdminAuth } from "./auth.ts"
import { Conflict, Forbidden, InvalidRequest, NotFound, ServiceUnavailable } from "./errors.ts"
import { strict } from "./payloads.ts"

const storeId = HttpApiSchema.param("storeId", StoreId)
const configId = HttpApiSchema.param("id", ConfigId)

export const PollResult = Schema.Struct({
  status: Schema.Literal("SUCCEEDED", "FAILED"),
  recordCount: Schema.Int,
  error: Schema.NullOr(Schema.String)
})

export class ConnectorsApi extends HttpApiGroup.make("connectors")
  .add(
    HttpApiEndpoint.post("create")`/stores/${storeId}/connectors`
      .setPayload(strict(CreateConnectorConfig))
      .addSuccess(ConnectorConfig, { status: 201 })
      .addError(InvalidRequest)
      .annotate(OpenApi.Summary, "Configure a connector (amazon, ebay, google-shopping); settings are checked per type")
  )
  .add(HttpApiEndpoint.get("list")`/stores/${storeId}/connectors`.addSuccess(Schema.Struct({ items: Schema.Array(ConnectorConfig) })))
  .add(HttpApiEndpoint.get("show")`/stores/${storeId}/connectors/${configId}`.addSuccess(ConnectorConfig).addError(NotFound))
  .add(
    HttpApiEndpoint.patch("update")`/stores/${storeId}/connectors/${configId}`
      .setPayload(strict(UpdateConnectorConfig))
      .addSuccess(ConnectorConfig)
      .addError(NotFound)
      .addError(InvalidRequest)
  )
  .add(HttpApiEndpoint.del("delete")`/stores/${storeId}/connectors/${configId}`.addSuccess(HttpApiSchema.NoContent).addError(NotFound))
  .add(
    HttpApiEndpoint.put("putCredentials")`/stores/${storeId}/connectors/${configId}/credentials`
      .setPayload(strict(ConnectorCredentials))
      .addSuccess(HttpApiSchema.NoContent)
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Store the marketplace credentials in Vault (never returned)")
  )
  .add(
    HttpApiEndpoint.get("syncLog")`/stores/${storeId}/connectors/${configId}/sync-log`
      .setUrlParams(Schema.Struct({ limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500))) }))
      .addSuccess(Schema.Struct({ items: Schema.Array(SyncLogEntry) }))
      .addError(NotFound)
  )
  .add(
    HttpApiEndpoint.post("poll")`/stores/${storeId}/connectors/${configId}/poll`
      .addSuccess(PollResult)
      .addError(NotFound)
      .addError(Conflict)
      .annotate(OpenApi.Summary, "Poll the marketplace now (inbound sync), once")
  )
  .addError(Forbidden)
  .addError(ServiceUnavailable)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "Connectors")
{}
