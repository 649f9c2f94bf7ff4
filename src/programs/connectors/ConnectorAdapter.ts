import { Data, type Duration, type Effect, type Option, type Redacted, type Schema } from "effect"
import type { ImportedOrder } from "../../domain/connectors/events.ts"
import type { EventEnvelope } from "../../domain/EventEnvelope.ts"
import type { HttpOut } from "../../services/HttpOut.ts"

/**
 * Why a connector run failed. `retryable` failures (throttling that outlasted
 * the in-run retries, 5xx, network) go back on the retry table; the others
 * (a 4xx with the marketplace's message, an INVALID submission, missing
 * credentials) are recorded and not retried.
 */
export class ConnectorError extends Data.TaggedError("ConnectorError")<{
  readonly kind: "Throttled" | "Unavailable" | "Rejected" | "Invalid" | "Misconfigured"
  /** The marketplace's own message (never a credential). */
  readonly message: string
}> {
  get retryable() {
    return this.kind === "Throttled" || this.kind === "Unavailable"
  }
}

/** Access tokens, cached per connector config until shortly before they expire. */
export interface TokenCache {
  readonly get: (
    fetch: Effect.Effect<{ readonly accessToken: string; readonly expiresInSeconds: number }, ConnectorError, HttpOut>
  ) => Effect.Effect<string, ConnectorError, HttpOut>
  /** After a 401: the next `get` fetches a new token. */
  readonly invalidate: Effect.Effect<void>
}

/** Client-side throttling: a token bucket per marketplace operation, at its published rate. */
export interface Throttle {
  readonly take: (operation: string, ratePerSecond: number, burst: number) => Effect.Effect<void>
}

export interface ConnectorContext<Settings> {
  readonly configId: string
  readonly storeId: string
  readonly settings: Settings
  /** From Vault `integration-service/connector/{config_id}`: `api-key`, `api-secret`, `refresh-token`, … */
  readonly credentials: Readonly<Record<string, Redacted.Redacted<string>>>
  readonly tokens: TokenCache
  readonly throttle: Throttle
}

/** One run's result, for the sync log. */
export interface SyncOutcome {
  readonly entityType: string
  readonly recordCount: number
}

export interface PollOutcome {
  readonly entityType: string
  readonly records: ReadonlyArray<ImportedOrder>
  /** Where the next poll starts; persisted with the published records. */
  readonly cursor: string
}

/**
 * A marketplace integration. A new connector is one module exporting one of
 * these, and one line in `registry.ts`.
 */
export interface ConnectorAdapter<Settings = any> {
  readonly connectorType: string
  /** Event types it acts on; a config subscribes to a subset. */
  readonly supportedEvents: ReadonlyArray<string>
  /** Validates a config's `settings` (a bad one is a 400 naming the field). */
  readonly settings: Schema.Schema<Settings, any>
  /** Vault keys a config must have before it can run. */
  readonly credentialKeys: ReadonlyArray<string>
  /** How often a config is polled (its settings' `pollIntervalSeconds`, default 5 minutes). */
  readonly pollIntervalOf: (settings: Settings) => Duration.DurationInput
  readonly handleEvent: (
    context: ConnectorContext<Settings>,
    event: EventEnvelope
  ) => Effect.Effect<SyncOutcome, ConnectorError, HttpOut>
  /** New or changed records since `cursor` (None: the first poll of this config). */
  readonly poll: (
    context: ConnectorContext<Settings>,
    cursor: Option.Option<string>
  ) => Effect.Effect<PollOutcome, ConnectorError, HttpOut>
}
