import { Cause, Deferred, Effect, Exit, FiberId, Option, ParseResult, Schema } from "effect"
import type { EventEnvelope } from "../../domain/EventEnvelope.ts"
import { insecureUrlsAllowed } from "../../services/AppConfig.ts"
import { HttpOut } from "../../services/HttpOut.ts"
import { Vault } from "../../services/Vault.ts"
import { type ConnectorAdapter, type ConnectorContext, ConnectorError, type PollPage } from "./ConnectorAdapter.ts"
import type { StoredConfig } from "../../services/ConnectorConfigsRepo.ts"
import { ConnectorRegistry } from "./ConnectorRegistry.ts"
import { makeThrottle, makeTokenCache } from "./context.ts"
import { insecureUrlSettings } from "./marketplace/settings.ts"
import { storableText } from "../../domain/storable.ts"

export const connectorSecretPath = (configId: string) => `integration-service/connector/${configId}`

/** A run may not take longer than this (throttled marketplaces are slow, not this slow). */
export const runTimeout = "2 minutes"

interface Prepared {
  readonly adapter: ConnectorAdapter
  readonly context: ConnectorContext<unknown>
}

interface Entry {
  /** What the context was built from: a change of either builds a new one. */
  readonly key: string
  readonly ready: Deferred.Deferred<Prepared, ConnectorError>
}

/**
 * A defect in an adapter (a `throw`, a bug) as a failure of that run, with its
 * reason: it fails the run or the poll, never the fiber that runs them.
 */
export const defectAsFailure = (connectorType: string) => <A>(effect: Effect.Effect<A, ConnectorError, HttpOut>) =>
  Effect.catchAllCause(effect, (cause) => {
    if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) return Effect.fail(failure.value)
    const defect = Cause.squash(cause)
    const reason = defect instanceof Error ? `${defect.name}: ${defect.message}` : String(defect)
    return Effect.logError("connector adapter defect", cause).pipe(
      Effect.zipRight(Effect.fail(
        new ConnectorError({ kind: "Defect", message: `defect in the ${connectorType} connector: ${storableText(reason, 300)}` })
      ))
    )
  })

/**
 * Runs connector adapters for configs: keeps, per config, the decoded
 * settings, the credentials read from Vault (once per credentials version),
 * the access-token cache and the throttle, so consecutive runs share them.
 * Calls of one config that start together share one preparation — and so one
 * token cache: one token request per config at a time.
 */
export class ConnectorRuntime extends Effect.Service<ConnectorRuntime>()("integration-service/ConnectorRuntime", {
  scoped: Effect.gen(function*() {
    const vault = yield* Vault
    const registry = yield* ConnectorRegistry
    const http = yield* HttpOut
    const scope = yield* Effect.scope
    const allowInsecureUrls = yield* insecureUrlsAllowed
    const entries = new Map<string, Entry>()

    const build = (stored: StoredConfig) =>
      Effect.gen(function*() {
        const config = stored.config
        const adapter = yield* Option.match(registry.get(config.connectorType), {
          onNone: () => Effect.fail(new ConnectorError({ kind: "Misconfigured", message: `no connector of type ${config.connectorType}` })),
          onSome: Effect.succeed
        })
        const settings = yield* Schema.decodeUnknown(adapter.settings)(config.settings).pipe(
          Effect.mapError((error) =>
            new ConnectorError({ kind: "Misconfigured", message: `settings: ${ParseResult.TreeFormatter.formatErrorSync(error)}` })
          )
        )
        // A config saved before the https rule must not send credentials in clear text either.
        const insecure = allowInsecureUrls ? [] : insecureUrlSettings(settings, adapter.urlSettings)
        if (insecure.length > 0) {
          return yield* Effect.fail(new ConnectorError({ kind: "Misconfigured", message: insecure.join("; ") }))
        }
        const credentials = yield* vault.read(connectorSecretPath(config.id)).pipe(
          Effect.map(Option.getOrElse(() => ({}))),
          Effect.mapError((error) => new ConnectorError({ kind: "OurOutage", message: error.message }))
        )
        return {
          adapter,
          context: {
            configId: config.id,
            storeId: config.storeId,
            settings,
            credentials,
            tokens: yield* makeTokenCache,
            throttle: yield* makeThrottle
          }
        } satisfies Prepared
      })

    // Check-and-claim happens in one synchronous step, so a second caller always finds the
    // first one's entry and waits for it; the build runs in this service's scope, so a caller
    // that is interrupted meanwhile does not leave the others waiting for ever.
    const prepare = (stored: StoredConfig): Effect.Effect<Prepared, ConnectorError> =>
      Effect.suspend(() => {
        const id = stored.config.id
        const key = `${stored.credentialsVersion}:${JSON.stringify(stored.config.settings)}`
        const existing = entries.get(id)
        if (existing !== undefined && existing.key === key) return Deferred.await(existing.ready)
        const ready = Deferred.unsafeMake<Prepared, ConnectorError>(FiberId.none)
        entries.set(id, { key, ready })
        return build(stored).pipe(
          Effect.exit,
          Effect.flatMap((exit) =>
            Effect.suspend(() => {
              // A failed preparation (Vault down, bad settings) is tried again by the next run.
              if (Exit.isFailure(exit) && entries.get(id)?.ready === ready) entries.delete(id)
              return Deferred.done(ready, exit)
            })
          ),
          Effect.forkIn(scope),
          Effect.zipRight(Deferred.await(ready))
        )
      })

    const run = <A>(
      stored: StoredConfig,
      f: (p: Prepared) => Effect.Effect<A, ConnectorError, HttpOut>
    ) =>
      prepare(stored).pipe(
        Effect.flatMap((p) => f(p).pipe(defectAsFailure(stored.config.connectorType))),
        Effect.provideService(HttpOut, http)
      )

    return {
      handleEvent: (stored: StoredConfig, event: EventEnvelope) =>
        run(stored, (p) => p.adapter.handleEvent(p.context, event)).pipe(
          Effect.timeoutFail({
            duration: runTimeout,
            onTimeout: () => new ConnectorError({ kind: "Unavailable", message: `the run took longer than ${runTimeout}` })
          })
        ),
      /** One page of a poll (the poller bounds its time). */
      pollPage: (stored: StoredConfig, cursor: Option.Option<string>): Effect.Effect<PollPage, ConnectorError> =>
        run(stored, (p) => p.adapter.pollPage(p.context, cursor)),
      /** A config was deleted: forget its context. */
      forget: (configId: string) => Effect.sync(() => entries.delete(configId))
    }
  })
}) {}
