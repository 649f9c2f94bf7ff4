import { Effect, Option, ParseResult, Schema } from "effect"
import type { EventEnvelope } from "../../domain/EventEnvelope.ts"
import { HttpOut } from "../../services/HttpOut.ts"
import { Vault } from "../../services/Vault.ts"
import { type ConnectorAdapter, type ConnectorContext, ConnectorError } from "./ConnectorAdapter.ts"
import type { StoredConfig } from "./ConnectorConfigsRepo.ts"
import { ConnectorRegistry } from "./ConnectorRegistry.ts"
import { makeThrottle, makeTokenCache } from "./context.ts"

export const connectorSecretPath = (configId: string) => `integration-service/connector/${configId}`

/** A run may not take longer than this (throttled marketplaces are slow, not this slow). */
const runTimeout = "2 minutes"

interface Prepared {
  readonly adapter: ConnectorAdapter
  readonly context: ConnectorContext<unknown>
  /** What the context was built from: a change of either builds a new one. */
  readonly key: string
}

/**
 * Runs connector adapters for configs: keeps, per config, the decoded
 * settings, the credentials read from Vault (once per credentials version),
 * the access-token cache and the throttle, so consecutive runs share them.
 */
export class ConnectorRuntime extends Effect.Service<ConnectorRuntime>()("integration-service/ConnectorRuntime", {
  effect: Effect.gen(function*() {
    const vault = yield* Vault
    const registry = yield* ConnectorRegistry
    const http = yield* HttpOut
    const prepared = new Map<string, Prepared>()

    const prepare = (stored: StoredConfig) =>
      Effect.gen(function*() {
        const config = stored.config
        const key = `${stored.credentialsVersion}:${JSON.stringify(config.settings)}`
        const existing = prepared.get(config.id)
        if (existing && existing.key === key) return existing
        const adapter = yield* Option.match(registry.get(config.connectorType), {
          onNone: () => Effect.fail(new ConnectorError({ kind: "Misconfigured", message: `no connector of type ${config.connectorType}` })),
          onSome: Effect.succeed
        })
        const settings = yield* Schema.decodeUnknown(adapter.settings)(config.settings).pipe(
          Effect.mapError((error) =>
            new ConnectorError({ kind: "Misconfigured", message: `settings: ${ParseResult.TreeFormatter.formatErrorSync(error)}` })
          )
        )
        const credentials = yield* vault.read(connectorSecretPath(config.id)).pipe(
          Effect.map(Option.getOrElse(() => ({}))),
          Effect.mapError((error) => new ConnectorError({ kind: "Unavailable", message: error.message }))
        )
        const next: Prepared = {
          adapter,
          key,
          context: {
            configId: config.id,
            storeId: config.storeId,
            settings,
            credentials,
            tokens: yield* makeTokenCache,
            throttle: yield* makeThrottle
          }
        }
        prepared.set(config.id, next)
        return next
      })

    const run = <A>(
      stored: StoredConfig,
      f: (p: Prepared) => Effect.Effect<A, ConnectorError, HttpOut>
    ) =>
      prepare(stored).pipe(
        Effect.flatMap(f),
        Effect.provideService(HttpOut, http),
        Effect.timeoutFail({
          duration: runTimeout,
          onTimeout: () => new ConnectorError({ kind: "Unavailable", message: `the run took longer than ${runTimeout}` })
        })
      )

    return {
      handleEvent: (stored: StoredConfig, event: EventEnvelope) =>
        run(stored, (p) => p.adapter.handleEvent(p.context, event)),
      poll: (stored: StoredConfig, cursor: Option.Option<string>) =>
        run(stored, (p) => p.adapter.poll(p.context, cursor)),
      /** A config was deleted: forget its context. */
      forget: (configId: string) => Effect.sync(() => prepared.delete(configId))
    }
  })
}) {}
