import { HttpApiBuilder } from "@effect/platform"
import { Effect, Option, ParseResult, Redacted, Schema } from "effect"
import type { ConfigId } from "../../domain/connectors/models.ts"
import { AppConfig } from "../../services/AppConfig.ts"
import { Vault } from "../../services/Vault.ts"
import type { ConnectorAdapter } from "../connectors/ConnectorAdapter.ts"
import { ConnectorConfigsRepo } from "../../services/ConnectorConfigsRepo.ts"
import { ConnectorPolling } from "../connectors/ConnectorPolling.ts"
import { ConnectorRegistry } from "../connectors/ConnectorRegistry.ts"
import { connectorSecretPath } from "../connectors/ConnectorRuntime.ts"
import { insecureUrlSettings } from "../connectors/marketplace/settings.ts"
import { Api } from "./Api.ts"
import { Conflict, InvalidRequest, NotFound } from "./ApiErrors.ts"
import { outagesAnswered } from "./outages.ts"

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

export const ConnectorsHandlers = HttpApiBuilder.group(Api, "connectors", (handlers) =>
  Effect.gen(function*() {
    const registry = yield* ConnectorRegistry
    const polling = yield* ConnectorPolling
    const vault = yield* Vault
    const configs = yield* ConnectorConfigsRepo
    const config = yield* AppConfig
    const allowInsecureUrls = config.mode === "dev" || config.webhook.allowInsecureTargets
    const adapterFor = (connectorType: string) =>
      Option.match(registry.get(connectorType), {
        onNone: () => Effect.fail(InvalidRequest.of(`connectorType: must be one of ${registry.types.join(", ")}`)),
        onSome: Effect.succeed
      })

    return handlers
      .handle("create", outagesAnswered(({ path: { storeId }, payload }) =>
        Effect.gen(function*() {
          const adapter = yield* adapterFor(payload.connectorType)
          const settings = yield* checkSettings(adapter, payload.settings, allowInsecureUrls)
          const events = yield* checkEvents(adapter, payload.eventSubscriptions)
          const stored = yield* configs.insert({
            id: crypto.randomUUID() as ConfigId,
            storeId,
            connectorType: adapter.connectorType,
            displayName: payload.displayName,
            isActive: payload.isActive,
            eventSubscriptions: events,
            settings
          })
          yield* polling.changed(stored.config.id)
          return stored.config
        })))
      .handle("list", outagesAnswered(({ path: { storeId } }) =>
        configs.list(storeId).pipe(Effect.map((rows) => ({ items: rows.map((r) => r.config) })))))
      .handle("show", outagesAnswered(({ path: { storeId, id } }) =>
        configs.find(storeId, id).pipe(Effect.flatMap(orNotFound), Effect.map((s) => s.config))))
      .handle("update", outagesAnswered(({ path: { storeId, id }, payload }) =>
        Effect.gen(function*() {
          const existing = yield* configs.find(storeId, id).pipe(Effect.flatMap(orNotFound))
          const adapter = yield* adapterFor(existing.config.connectorType)
          const settings = payload.settings === undefined ? undefined : yield* checkSettings(adapter, payload.settings, allowInsecureUrls)
          const events = payload.eventSubscriptions === undefined
            ? undefined
            : yield* checkEvents(adapter, payload.eventSubscriptions)
          const updated = yield* configs.update(storeId, id, {
            displayName: payload.displayName,
            eventSubscriptions: events,
            settings,
            isActive: payload.isActive
          }).pipe(Effect.flatMap(orNotFound))
          yield* polling.changed(id)
          return updated.config
        })))
      .handle("delete", outagesAnswered(({ path: { storeId, id } }) =>
        Effect.gen(function*() {
          if (!(yield* configs.remove(storeId, id))) return yield* Effect.fail(notFound)
          yield* polling.changed(id)
          yield* vault.delete(connectorSecretPath(id)).pipe(
            Effect.catchAll((error) => Effect.logWarning("could not delete connector credentials from Vault", error))
          )
        })))
      .handle("putCredentials", outagesAnswered(({ path: { storeId, id }, payload }) =>
        Effect.gen(function*() {
          yield* configs.find(storeId, id).pipe(Effect.flatMap(orNotFound))
          yield* vault.write(connectorSecretPath(id), {
            "api-key": Redacted.make(payload.apiKey),
            "api-secret": Redacted.make(payload.apiSecret),
            ...(payload.refreshToken !== undefined ? { "refresh-token": Redacted.make(payload.refreshToken) } : {})
          })
          yield* configs.bumpCredentialsVersion(storeId, id).pipe(Effect.flatMap(orNotFound))
          yield* polling.changed(id)
        })))
      .handle("syncLog", outagesAnswered(({ path: { storeId, id }, urlParams }) =>
        Effect.gen(function*() {
          yield* configs.find(storeId, id).pipe(Effect.flatMap(orNotFound))
          return { items: yield* configs.syncLog(storeId, id, urlParams.limit ?? 100) }
        })))
      .handle("poll", outagesAnswered(({ path: { storeId, id } }) =>
        Effect.gen(function*() {
          const stored = yield* configs.find(storeId, id).pipe(Effect.flatMap(orNotFound))
          const run = yield* polling.pollNow(stored)
          if (run._tag === "Busy") return yield* Effect.fail(Conflict.of("another instance is polling this connector now"))
          return { status: run.status, recordCount: run.recordCount, error: run.error }
        })))
  }))
