import { Context, Effect, type Option, type Redacted } from "effect"
import type { BreakerPolicy } from "../domain/webhooks/breaker.ts"

/** The service's settings, resolved once at start-up (live: Vault plus environment overrides). */
export interface AppConfigShape {
  readonly mode: "live" | "dev"
  readonly port: number
  /** A `postgres://` URL (credentials included, hence redacted). */
  readonly databaseUrl: Redacted.Redacted<string>
  /**
   * Statements run again and again are prepared on the server (default). Off for a
   * connection pooler that cannot keep them across transactions (PgBouncer in
   * transaction mode before 1.21).
   */
  readonly databasePreparedStatements?: boolean
  readonly kafka: {
    readonly brokers: ReadonlyArray<string>
    readonly clientId: string
    readonly groupId: string
    /** Topics the event consumer reads. */
    readonly eventTopics: RegExp
    /** The largest message the brokers accept (their message.max.bytes): larger outbox messages are set aside. */
    readonly maxMessageBytes: number
  }
  /** Consumed events over these limits are quarantined, not taken in. */
  readonly events: {
    readonly maxBytes: number
    /** Nesting depth of the JSON (objects and arrays). */
    readonly maxDepth: number
  }
  /** At least `minAdminTokenLength` characters (start-up refuses a shorter one). */
  readonly adminToken: Redacted.Redacted<string>
  readonly otlpEndpoint: Option.Option<string>
  readonly webhook: {
    readonly timeoutMs: number
    /** `http://` and loopback/private targets are accepted (dev mode, tests, private networks). */
    readonly allowInsecureTargets: boolean
    /** The endpoints' circuit breaker and auto-disable (default: 20 failures, a probe every 60 s, disabled after 5 days). */
    readonly breaker?: BreakerPolicy
  }
  readonly credentials: {
    /** bcrypt cost factor for new credential secrets. */
    readonly bcryptCost: number
    /** Lifetime of OAuth access tokens. */
    readonly accessTokenTtlSeconds: number
  }
  /** The largest request body (bytes) a route takes (`HTTP_MAX_BODY_BYTES`; default 64 KiB; the token endpoint takes 8 KiB at most). */
  readonly maxBodyBytes?: number
  /** Where dev mode keeps its state (PGlite data, the file-backed secret store). */
  readonly dataDir: string
}

/** The admin API token's minimum length (SPEC.md "Vault layout"). */
export const minAdminTokenLength = 32

export class AppConfig extends Context.Tag("integration-service/AppConfig")<AppConfig, AppConfigShape>() {}

/**
 * Whether `http://` and loopback/private URLs are accepted (webhook targets, connector
 * marketplace URLs): always in dev mode, in live mode when WEBHOOK_ALLOW_INSECURE_TARGETS is set.
 */
export const insecureUrlsAllowed = Effect.map(AppConfig, (config) => config.mode === "dev" || config.webhook.allowInsecureTargets)

/** Every topic but Kafka's internal ones and those this service publishes itself. */
export const defaultEventTopics = /^(?!__|webhook\.|connector\.).+/
