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
import { Items } from "../records.ts"
import { AdminAuth } from "./auth.ts"
import { Conflict, NotFound } from "./errors.ts"
import { actionEndpoint, guardedBy, storeIdParam, storeResource } from "./groups.ts"
import { strict } from "./payloads.ts"

const configId = HttpApiSchema.param("id", ConfigId)

export const PollResult = Schema.Struct({
  status: Schema.Literal("SUCCEEDED", "FAILED"),
  recordCount: Schema.Int,
  error: Schema.NullOr(Schema.String)
})

export class ConnectorsApi extends HttpApiGroup.make("connectors")
  .pipe(storeResource("connectors", configId, {
    item: ConnectorConfig,
    create: CreateConnectorConfig,
    update: UpdateConnectorConfig,
    createSummary: "Configure a connector (amazon, ebay, google-shopping); settings are checked per type"
  }))
  .add(
    HttpApiEndpoint.put("putCredentials")`/stores/${storeIdParam}/connectors/${configId}/credentials`
      .setPayload(strict(ConnectorCredentials))
      .addSuccess(HttpApiSchema.NoContent)
      .addError(NotFound)
      .annotate(OpenApi.Summary, "Store the marketplace credentials in Vault (never returned)")
  )
  .add(
    HttpApiEndpoint.get("syncLog")`/stores/${storeIdParam}/connectors/${configId}/sync-log`
      .setUrlParams(Schema.Struct({ limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500))) }))
      .addSuccess(Items(SyncLogEntry))
      .addError(NotFound)
  )
  .add(
    actionEndpoint("poll", "connectors", configId, "poll", PollResult)
      .addError(Conflict)
      .annotate(OpenApi.Summary, "Poll the marketplace now (inbound sync), once")
  )
  .pipe(guardedBy(AdminAuth, "Connectors"))
{}
