import * as Migrator from "@effect/sql/Migrator"
import initialSchema from "./0001_initial_schema.ts"
import deliveryAttemptsAndIndexes from "./0002_delivery_attempts_and_indexes.ts"
import webhookSecretVersionAndOutbox from "./0003_webhook_secret_version_and_outbox.ts"
import oauthAccessTokens from "./0004_oauth_access_tokens.ts"
import connectorRuns from "./0005_connector_runs.ts"
import connectorImportedChanges from "./0006_connector_imported_changes.ts"
import deliveryEngineSafety from "./0007_delivery_engine_safety.ts"
import credentialGenerations from "./0008_credential_generations.ts"
import webhookSecretOverlap from "./0009_webhook_secret_overlap.ts"
import deliveryCycles from "./0010_delivery_cycles.ts"
import webhookEndpointDisable from "./0011_webhook_endpoint_disable.ts"
import webhookMaxInFlight from "./0012_webhook_max_in_flight.ts"
import webhookBreaker from "./0013_webhook_breaker.ts"
import webhookInFlightCount from "./0014_webhook_in_flight_count.ts"
import claimIndexes from "./0015_claim_indexes.ts"
import hotClaims from "./0016_hot_claims.ts"
import partialEventKeys from "./0017_partial_event_keys.ts"
import inFlightOnInsert from "./0018_in_flight_on_insert.ts"

/** Every migration, in order: `{id}_{name}` keys as the Migrator expects. */
export const loader = Migrator.fromRecord({
  "0001_initial_schema": initialSchema,
  "0002_delivery_attempts_and_indexes": deliveryAttemptsAndIndexes,
  "0003_webhook_secret_version_and_outbox": webhookSecretVersionAndOutbox,
  "0004_oauth_access_tokens": oauthAccessTokens,
  "0005_connector_runs": connectorRuns,
  "0006_connector_imported_changes": connectorImportedChanges,
  "0007_delivery_engine_safety": deliveryEngineSafety,
  "0008_credential_generations": credentialGenerations,
  "0009_webhook_secret_overlap": webhookSecretOverlap,
  "0010_delivery_cycles": deliveryCycles,
  "0011_webhook_endpoint_disable": webhookEndpointDisable,
  "0012_webhook_max_in_flight": webhookMaxInFlight,
  "0013_webhook_breaker": webhookBreaker,
  "0014_webhook_in_flight_count": webhookInFlightCount,
  "0015_claim_indexes": claimIndexes,
  "0016_hot_claims": hotClaims,
  "0017_partial_event_keys": partialEventKeys,
  "0018_in_flight_on_insert": inFlightOnInsert
})
