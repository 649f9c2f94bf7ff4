import { Data, type Duration, type Effect, type Option, type Redacted, type Schema } from "effect"
import type { ImportedOrder } from "../../domain/connectors/events.ts"
import type { EventEnvelope } from "../../domain/EventEnvelope.ts"
import type { HttpOut } from "../../services/HttpOut.ts"
import { storableText } from "../../domain/storable.ts"

/** A ConnectorError's message is kept to this many characters (it ends up in PostgreSQL). */
const maxMessageChars = 2000

/**
 * Why a connector run failed. `retryable` failures (throttling that outlasted
 * the in-run retries, 5xx, network, a defect in the adapter) go back on the
 * retry table; the others (a 4xx with the marketplace's message, an INVALID
 * submission, missing credentials) are recorded and not retried.
 *
 * The message quotes marketplaces, which may answer anything: it is made
 * storable (no NUL, no lone surrogate) and bounded here, once, for every place
 * that records it.
 */
export class ConnectorError extends Data.TaggedError("ConnectorError")<{
  /**
   * `OurOutage`: something of ours (the secret store) was unreachable — the
   * run is postponed without spending one of its attempts.
   */
  readonly kind: "Throttled" | "Unavailable" | "Rejected" | "Invalid" | "Misconfigured" | "Defect" | "OurOutage"
  /** The marketplace's own message (never a credential). */
  readonly message: string
}> {
  constructor(args: { readonly kind: ConnectorError["kind"]; readonly message: string }) {
    super({ kind: args.kind, message: storableText(args.message, maxMessageChars) })
  }

  get retryable() {
    return this.kind === "Throttled" || this.kind === "Unavailable" || this.kind === "Defect" || this.kind === "OurOutage"
  }
}

/** Access tokens, cached per connector config until shortly before they expire. */
export interface TokenCache {
  /** The cached token, or one fetch shared by every caller waiting for it. */
  readonly get: (
    fetch: Effect.Effect<{ readonly accessToken: string; readonly expiresInSeconds: number }, ConnectorError, HttpOut>
  ) => Effect.Effect<string, ConnectorError, HttpOut>
  /**
   * After the marketplace refused `token`: the next `get` fetches a new one.
   * A token already replaced (another call saw the refusal first) is left alone.
   */
  readonly invalidate: (token: string) => Effect.Effect<void>
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

/** A complete poll: every page up to the end of the catch-up (`ConnectorAdapter.poll`). */
export interface PollOutcome {
  readonly entityType: string
  readonly records: ReadonlyArray<ImportedOrder>
  /** Where the next poll starts. */
  readonly cursor: string
}

/** One page of a poll: its records and the cursor that resumes right after it. */
export interface PollPage extends PollOutcome {
  /** More is waiting now: call again with `cursor` (false: caught up until the next poll). */
  readonly more: boolean
}

/**
 * A marketplace integration. A new connector is one folder under `adapters/`
 * exporting one of these, and one line in `registry.ts`.
 */
export interface ConnectorAdapter<Settings = any> {
  readonly connectorType: string
  /** Event types it acts on; a config subscribes to a subset. */
  readonly supportedEvents: ReadonlyArray<string>
  /** Validates a config's `settings` (a bad one is a 400 naming the field). */
  readonly settings: Schema.Schema<Settings, any>
  /** The settings that are marketplace URLs: `https` only in live mode (credentials travel to them). */
  readonly urlSettings: ReadonlyArray<string & keyof Settings>
  /** Vault keys a config must have before it can run. */
  readonly credentialKeys: ReadonlyArray<string>
  /** How often a config is polled (its settings' `pollIntervalSeconds`, default 5 minutes). */
  readonly pollIntervalOf: (settings: Settings) => Duration.DurationInput
  /** Pages one poll reads at most; the rest of a catch-up is left to the next poll. */
  readonly pagesPerPoll: number
  readonly handleEvent: (
    context: ConnectorContext<Settings>,
    event: EventEnvelope
  ) => Effect.Effect<SyncOutcome, ConnectorError, HttpOut>
  /**
   * The next page of new or changed records after `cursor` (None: the first
   * poll of this config). The poller commits each page's records with its
   * cursor, so a poll that stops (its page budget, a crash) resumes there.
   */
  readonly pollPage: (
    context: ConnectorContext<Settings>,
    cursor: Option.Option<string>
  ) => Effect.Effect<PollPage, ConnectorError, HttpOut>
  /** Every page up to the end of the catch-up, in memory (tests and tools; the poller goes page by page). */
  readonly poll: (
    context: ConnectorContext<Settings>,
    cursor: Option.Option<string>
  ) => Effect.Effect<PollOutcome, ConnectorError, HttpOut>
}
