import { SqlClient } from "@effect/sql/SqlClient"
import { Data, Duration, Effect, Either, FiberMap, Option, Stream } from "effect"
import type { ImportedOrder } from "../../domain/connectors/events.ts"
import { importedTopic } from "../../domain/connectors/models.ts"
import { Notifications } from "../../services/Notifications.ts"
import { sha256Hex } from "../credentials/digest.ts"
import { ConnectorConfigsRepo, type StoredConfig } from "./ConnectorConfigsRepo.ts"
import { ConnectorRegistry } from "./ConnectorRegistry.ts"
import { ConnectorRuntime } from "./ConnectorRuntime.ts"

/** Config changes are announced here so every instance starts, restarts or stops its poll fiber at once. */
export const connectorsChannel = "integration_service_connectors"

/** Without a notification, the set of active configs is re-read this often. */
const reconcileInterval = "5 seconds"

export type PollRun =
  | { readonly _tag: "Polled"; readonly status: "SUCCEEDED" | "FAILED"; readonly recordCount: number; readonly error: string | null }
  | { readonly _tag: "Busy" }

/** Published changes are remembered this long (connector_imported_changes; see migration 0006). */
const importedRetention = "30 days"

/** The cursor could not be advanced: this instance's lease was taken over meanwhile. */
class LeaseLost extends Data.TaggedError("LeaseLost")<{}> {}

/** A stable event id per (config, record, version of the record): the key of a change, published once. */
const eventIdFor = (configId: string, record: ImportedOrder) =>
  Effect.map(sha256Hex(`${configId}\n${record.externalOrderId}\n${record.updatedAt}`), (hex) =>
    `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`)

/**
 * Inbound sync: one polling fiber per active config, on the config's own
 * interval, following config changes without a restart. A config is polled by
 * one instance at a time (a lease in `connector_poll_state`, renewed by each
 * poll of its holder). A poll's records are published to
 * `connector.order.imported` through the Kafka outbox in the same transaction
 * that advances the cursor: a crash can neither skip records nor publish
 * them twice.
 */
export class ConnectorPolling extends Effect.Service<ConnectorPolling>()("integration-service/ConnectorPolling", {
  scoped: Effect.gen(function*() {
    const sql = yield* SqlClient
    const runtime = yield* ConnectorRuntime
    const registry = yield* ConnectorRegistry
    const notifications = yield* Notifications
    const owner = `instance-${crypto.randomUUID()}`

    const intervalOf = (stored: StoredConfig) =>
      Option.match(registry.get(stored.config.connectorType), {
        onNone: () => Duration.minutes(5),
        onSome: (adapter) => {
          const settings = { pollIntervalSeconds: 300, ...stored.config.settings }
          return Duration.decode(adapter.pollIntervalOf(settings))
        }
      })

    const pollOnce = (stored: StoredConfig) =>
      Effect.gen(function*() {
        const config = stored.config
        const leaseSeconds = Math.ceil(Duration.toSeconds(intervalOf(stored))) + 60
        const lease = yield* sql<{ cursor: string | null }>`
          INSERT INTO connector_poll_state (config_id, lease_owner, lease_expires_at)
          VALUES (${config.id}, ${owner}, now() + ${leaseSeconds} * interval '1 second')
          ON CONFLICT (config_id) DO UPDATE
            SET lease_owner = EXCLUDED.lease_owner, lease_expires_at = EXCLUDED.lease_expires_at
            WHERE connector_poll_state.lease_owner = EXCLUDED.lease_owner
               OR connector_poll_state.lease_owner IS NULL
               OR connector_poll_state.lease_expires_at < now()
          RETURNING cursor`
        if (lease.length === 0) return { _tag: "Busy" } as PollRun
        const startedAt = new Date()
        const result = yield* Effect.either(runtime.poll(stored, Option.fromNullable(lease[0]!.cursor)))
        if (Either.isLeft(result)) {
          const error = `${result.left.kind}: ${result.left.message}`.slice(0, 1000)
          yield* ConnectorConfigsRepo.recordRun({
            configId: config.id,
            storeId: config.storeId,
            direction: "INBOUND",
            entityType: "order",
            recordCount: 0,
            status: "FAILED",
            errorSummary: error,
            startedAt
          })
          return { _tag: "Polled", status: "FAILED", recordCount: 0, error } as PollRun
        }
        const outcome = result.right
        const now = new Date().toISOString()
        const messages = yield* Effect.forEach(outcome.records, (record) =>
          Effect.map(eventIdFor(config.id, record), (eventId) => ({
            eventId,
            value: JSON.stringify({
              eventId,
              eventType: importedTopic,
              storeId: config.storeId,
              occurredAt: now,
              data: {
                configId: config.id,
                connectorType: config.connectorType,
                entityType: outcome.entityType,
                externalOrderId: record.externalOrderId,
                status: record.status,
                updatedAt: record.updatedAt,
                order: record.raw
              }
            })
          })))
        // One message per change, in the order the adapter gave them.
        const changes = [...new Map(messages.map((m) => [m.eventId, m])).values()]
        const published = yield* sql.withTransaction(Effect.gen(function*() {
          // Only while this instance still holds the lease: else another instance polls the
          // same window now, and this poll's records and cursor are dropped (rolled back).
          const held = yield* sql`UPDATE connector_poll_state SET cursor = ${outcome.cursor}, updated_at = now()
                     WHERE config_id = ${config.id} AND lease_owner = ${owner} RETURNING config_id`
          if (held.length === 0) return yield* new LeaseLost()
          // Changes published before (a window overlapping the previous one) are not published again.
          const fresh = changes.length === 0 ? [] : yield* sql`
            WITH fresh AS (
              INSERT INTO connector_imported_changes (config_id, event_id)
              SELECT ${config.id}, e FROM UNNEST(${changes.map((c) => c.eventId)}::uuid[]) AS u(e)
              ON CONFLICT (config_id, event_id) DO NOTHING
              RETURNING event_id
            )
            INSERT INTO kafka_outbox (topic, message_key, value)
            SELECT ${importedTopic}, ${config.storeId}, m.v
            FROM UNNEST(${changes.map((c) => c.eventId)}::uuid[], ${changes.map((c) => c.value)}::text[])
                 WITH ORDINALITY AS m(e, v, n)
            WHERE m.e IN (SELECT event_id FROM fresh)
            ORDER BY m.n
            RETURNING message_id`
          yield* sql`DELETE FROM connector_imported_changes
                     WHERE config_id = ${config.id} AND published_at < now() - ${importedRetention}::interval`
          yield* ConnectorConfigsRepo.recordRun({
            configId: config.id,
            storeId: config.storeId,
            direction: "INBOUND",
            entityType: outcome.entityType,
            recordCount: fresh.length,
            status: "SUCCEEDED",
            errorSummary: null,
            startedAt
          })
          return fresh.length
        })).pipe(Effect.catchTag("LeaseLost", () => Effect.succeed(undefined)))
        if (published === undefined) {
          yield* Effect.logWarning("connector poll dropped: another instance took over its lease meanwhile")
          return { _tag: "Busy" } as PollRun
        }
        return { _tag: "Polled", status: "SUCCEEDED", recordCount: published, error: null } as PollRun
      }).pipe(
        Effect.provideService(SqlClient, sql),
        Effect.withSpan("connectors.poll", { attributes: { "connector.config_id": stored.config.id } })
      )

    const releaseLease = (configId: string) =>
      sql`UPDATE connector_poll_state SET lease_owner = NULL, lease_expires_at = NULL
          WHERE config_id = ${configId} AND lease_owner = ${owner}`.pipe(Effect.ignore)

    const pollLoop = (stored: StoredConfig) =>
      pollOnce(stored).pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("connector poll failed", cause)),
        Effect.zipRight(Effect.sleep(intervalOf(stored))),
        Effect.forever,
        Effect.onInterrupt(() => releaseLease(stored.config.id)),
        Effect.annotateLogs({ configId: stored.config.id, connectorType: stored.config.connectorType })
      )

    // At shutdown, once the poll fibers have stopped: the leases this instance still holds (a
    // manual poll's, of a config it runs no fiber for) are let go of, so that another instance
    // can poll those configs at once rather than after the leases ran out.
    yield* Effect.addFinalizer(() =>
      sql`UPDATE connector_poll_state SET lease_owner = NULL, lease_expires_at = NULL
          WHERE lease_owner = ${owner}`.pipe(Effect.ignore))

    // One fiber per active config; a changed config (settings, credentials, activity) gets a new one.
    const fibers = yield* FiberMap.make<string>()
    const versions = new Map<string, string>()
    const reconcile = Effect.gen(function*() {
      const active = yield* ConnectorConfigsRepo.listActive.pipe(Effect.provideService(SqlClient, sql))
      const seen = new Set<string>()
      for (const stored of active) {
        const id = stored.config.id
        seen.add(id)
        const version = `${stored.config.updatedAt.epochMillis}:${stored.credentialsVersion}`
        if (versions.get(id) === version) continue
        versions.set(id, version)
        // The old fiber is stopped (and has let go of its lease) before the new one starts:
        // FiberMap.run alone would start the new one first, whose lease the old one's release
        // would then clear mid-poll — that poll's cursor was lost, another instance could poll too.
        yield* FiberMap.remove(fibers, id)
        yield* FiberMap.run(fibers, id, pollLoop(stored))
      }
      for (const id of [...versions.keys()]) {
        if (!seen.has(id)) {
          versions.delete(id)
          yield* FiberMap.remove(fibers, id)
          yield* runtime.forget(id)
        }
      }
    })

    const wake = yield* notifications.listen(connectorsChannel).pipe(Stream.toPull)
    yield* Effect.forkScoped(
      reconcile.pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("connector poll supervisor failed; retrying", cause)),
        Effect.zipRight(Effect.race(Effect.sleep(reconcileInterval), Effect.ignore(wake))),
        Effect.forever
      )
    )

    return {
      /** One poll now (admin API / CLI): Busy when another instance holds this config. */
      pollNow: pollOnce,
      /** After a config changed here: every instance reconciles at once. */
      changed: (configId: string) => notifications.notify(connectorsChannel, configId)
    }
  })
}) {}
