import { Effect, Option, ParseResult, Redacted, Schema } from "effect"
import type { ConfigId } from "../../domain/connectors/models.ts"
import { insecureUrlsAllowed } from "../../services/AppConfig.ts"
import { ConnectorConfigsRepo } from "../../services/ConnectorConfigsRepo.ts"
import { Vault } from "../../services/Vault.ts"
import { Conflict, InvalidRequest, NotFound } from "../../domain/api/errors.ts"
import type { ConnectorAdapter } from "./ConnectorAdapter.ts"
import { ConnectorPolling } from "./ConnectorPolling.ts"
import { ConnectorRegistry } from "./ConnectorRegistry.ts"
import { connectorSecretPath } from "./ConnectorRuntime.ts"
import { insecureUrlSettings } from "./marketplace/settings.ts"

const notFound = NotFound.of("connector config")
const orNotFound = <A>(option: Option.Option<A>) =>
  Option.match(option, { onNone: () => Effect.fail(notFound), onSome: Effect.succeed })

/**
 * `settings` checked by the connector type's own schema; the stored form has its defaults filled in.
 * In live mode its marketplace URLs must be https (unless insecure targets are allowed).
 */
const checkSettings = (adapter: ConnectorAdapter, settings: unknown, allowInsecureUrls: boolean) =>
  Schema.decodeUnknown(adapter.settings)(settings, { errors: "all" }).pipe(
    Effect.flatMap((decoded) => Effect.map(Schema.encode(adapter.settings)(decoded), (encoded) => ({ decoded, encoded }))),
    Effect.mapError((error) => {
      const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
      return InvalidRequest.of(
        issues.map((i) => `settings${i.path.length ? "." + i.path.join(".") : ""}: ${i.message}`).join("; ")
      )
    }),
    Effect.flatMap(({ decoded, encoded }) => {
      const insecure = allowInsecureUrls ? [] : insecureUrlSettings(decoded, adapter.urlSettings)
      return insecure.length === 0 ? Effect.succeed(encoded) : Effect.fail(InvalidRequest.of(insecure.join("; ")))
    })
  )

const checkEvents = (adapter: ConnectorAdapter, events: ReadonlyArray<string>) => {
  const unsupported = events.filter((e) => !adapter.supportedEvents.includes(e))
  return unsupported.length === 0
    ? Effect.succeed([...new Set(events)])
    : Effect.fail(InvalidRequest.of(
      `eventSubscriptions: ${adapter.connectorType} handles ${adapter.supportedEvents.join(", ")}, not ${unsupported.join(", ")}`
    ))
}

export interface NewConnectorConfig {
  readonly connectorType: string
  readonly displayName: string
  readonly eventSubscriptions: ReadonlyArray<string>
  readonly settings: unknown
  readonly isActive: boolean
}

export interface ConnectorConfigPatch {
  readonly displayName?: string | undefined
  readonly eventSubscriptions?: ReadonlyArray<string> | undefined
  readonly settings?: unknown
  readonly isActive?: boolean | undefined
}

export interface ConnectorCredentialsInput {
  readonly apiKey: string
  readonly apiSecret: string
  readonly refreshToken?: string | undefined
}

/**
 * What store admins do with connector configs: settings checked by the
 * connector type's own schema, credentials written to Vault (never returned),
 * every change announced so each instance restarts its poll fiber at once.
 */
export class Connectors extends Effect.Service<Connectors>()("integration-service/Connectors", {
  effect: Effect.gen(function*() {
    const registry = yield* ConnectorRegistry
    const polling = yield* ConnectorPolling
    const vault = yield* Vault
    const configs = yield* ConnectorConfigsRepo
    const allowInsecureUrls = yield* insecureUrlsAllowed
    const adapterFor = (connectorType: string) =>
      Option.match(registry.get(connectorType), {
        onNone: () => Effect.fail(InvalidRequest.of(`connectorType: must be one of ${registry.types.join(", ")}`)),
        onSome: Effect.succeed
      })
    const existing = (storeId: string, id: ConfigId) => configs.find(storeId, id).pipe(Effect.flatMap(orNotFound))

    return {
      create: (storeId: string, input: NewConnectorConfig) =>
        Effect.gen(function*() {
          const adapter = yield* adapterFor(input.connectorType)
          const settings = yield* checkSettings(adapter, input.settings, allowInsecureUrls)
          const events = yield* checkEvents(adapter, input.eventSubscriptions)
          const stored = yield* configs.insert({
            id: crypto.randomUUID() as ConfigId,
            storeId,
            connectorType: adapter.connectorType,
            displayName: input.displayName,
            isActive: input.isActive,
            eventSubscriptions: events,
            settings
          })
          yield* polling.changed(stored.config.id)
          return stored.config
        }),
      list: (storeId: string) => Effect.map(configs.list(storeId), (rows) => ({ items: rows.map((r) => r.config) })),
      show: (storeId: string, id: ConfigId) => Effect.map(existing(storeId, id), (s) => s.config),
      update: (storeId: string, id: ConfigId, patch: ConnectorConfigPatch) =>
        Effect.gen(function*() {
          const stored = yield* existing(storeId, id)
          const adapter = yield* adapterFor(stored.config.connectorType)
          const settings = patch.settings === undefined ? undefined : yield* checkSettings(adapter, patch.settings, allowInsecureUrls)
          const events = patch.eventSubscriptions === undefined ? undefined : yield* checkEvents(adapter, patch.eventSubscriptions)
          const updated = yield* configs.update(storeId, id, {
            displayName: patch.displayName,
            eventSubscriptions: events,
            settings,
            isActive: patch.isActive
          }).pipe(Effect.flatMap(orNotFound))
          yield* polling.changed(id)
          return updated.config
        }),
      remove: (storeId: string, id: ConfigId) =>
        Effect.gen(function*() {
          if (!(yield* configs.remove(storeId, id))) return yield* Effect.fail(notFound)
          yield* polling.changed(id)
          yield* vault.delete(connectorSecretPath(id)).pipe(
            Effect.catchAll((error) => Effect.logWarning("could not delete connector credentials from Vault", error))
          )
        }),
      putCredentials: (storeId: string, id: ConfigId, credentials: ConnectorCredentialsInput) =>
        Effect.gen(function*() {
          yield* existing(storeId, id)
          yield* vault.write(connectorSecretPath(id), {
            "api-key": Redacted.make(credentials.apiKey),
            "api-secret": Redacted.make(credentials.apiSecret),
            ...(credentials.refreshToken !== undefined ? { "refresh-token": Redacted.make(credentials.refreshToken) } : {})
          })
          yield* configs.bumpCredentialsVersion(storeId, id).pipe(Effect.flatMap(orNotFound))
          yield* polling.changed(id)
        }),
      syncLog: (storeId: string, id: ConfigId, limit: number) =>
        Effect.gen(function*() {
          yield* existing(storeId, id)
          return { items: yield* configs.syncLog(storeId, id, limit) }
        }),
      poll: (storeId: string, id: ConfigId) =>
        Effect.gen(function*() {
          const run = yield* polling.pollNow(yield* existing(storeId, id))
          if (run._tag === "Busy") return yield* Effect.fail(Conflict.of("another instance is polling this connector now"))
          return { status: run.status, recordCount: run.recordCount, error: run.error }
        })
    }
  })
}) {}
