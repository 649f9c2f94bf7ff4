import { Cause, Clock, Duration, Effect, Either, FiberMap, Option, Stream } from "effect"
import { Notifications } from "../../services/Notifications.ts"
import { ConnectorConfigsRepo, type StoredConfig } from "../../services/ConnectorConfigsRepo.ts"
import { ConnectorPollState } from "../../services/ConnectorPollState.ts"
import { ConnectorRegistry } from "./ConnectorRegistry.ts"
import { ConnectorRuntime, runTimeout } from "./ConnectorRuntime.ts"
import { importedMessages } from "./importedEvents.ts"
import { storableText } from "../../domain/storable.ts"

/** Config changes are announced here so every instance starts, restarts or stops its poll fiber at once. */
export const connectorsChannel = "integration_service_connectors"

/** Without a notification, the set of active configs is re-read this often. */
const reconcileInterval = "5 seconds"

/** A poll starts no page after this long (the rest of a catch-up is left to the next poll). */
const pollTimeBudget = Duration.decode(runTimeout)

/** What the sync log and the admin API get of an error. */
const maxErrorChars = 1000

export type PollRun =
  | { readonly _tag: "Polled"; readonly status: "SUCCEEDED" | "FAILED"; readonly recordCount: number; readonly error: string | null }
  | { readonly _tag: "Busy" }

type PagesEnd =
  | { readonly _tag: "Done" }
  | { readonly _tag: "Failed"; readonly error: string }
  | { readonly _tag: "LeaseLost" }

/** A failure that is not a ConnectorError (the database, a defect outside the adapter), for the sync log. */
const describeCause = (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause)
  return `internal: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`
}

/**
 * Inbound sync: one polling fiber per active config, on the config's own
 * interval, following config changes without a restart. A config is polled by
 * one instance at a time (a lease in `connector_poll_state`, renewed by each
 * page its holder commits). A poll reads pages up to the adapter's page
 * budget and the time budget; each page's records are published to
 * `connector.order.imported` through the Kafka outbox in the transaction that
 * advances the cursor past them (pollCommit.ts), so a catch-up of any length
 * goes on poll after poll, never losing or repeating what was committed.
 */
export class ConnectorPolling extends Effect.Service<ConnectorPolling>()("integration-service/ConnectorPolling", {
  scoped: Effect.gen(function*() {
    const configs = yield* ConnectorConfigsRepo
    const pollState = yield* ConnectorPollState
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

    const readPages = (
      stored: StoredConfig,
      start: Option.Option<string>,
      run: { readonly syncId: string; readonly leaseSeconds: number },
      progress: { published: number; pages: number }
    ) =>
      Effect.gen(function*() {
        const config = stored.config
        const budget = Option.match(registry.get(config.connectorType), { onNone: () => 1, onSome: (a) => a.pagesPerPoll })
        const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(pollTimeBudget)
        let cursor = start
        while (progress.pages < budget) {
          const remaining = deadline - (yield* Clock.currentTimeMillis)
          if (remaining <= 0) break
          const fetched = yield* runtime.pollPage(stored, cursor).pipe(Effect.timeoutOption(remaining), Effect.either)
          if (Either.isLeft(fetched)) {
            return { _tag: "Failed", error: `${fetched.left.kind}: ${fetched.left.message}` } as PagesEnd
          }
          if (Option.isNone(fetched.right)) {
            // Out of time: a poll that got nowhere failed; one that committed pages stops here.
            if (progress.pages === 0) return { _tag: "Failed", error: `Unavailable: the run took longer than ${runTimeout}` } as PagesEnd
            break
          }
          const page = fetched.right.value
          const occurredAt = new Date(yield* Clock.currentTimeMillis).toISOString()
          const imported = yield* Effect.either(importedMessages(config, page.entityType, page.records, occurredAt))
          if (Either.isLeft(imported)) return { _tag: "Failed", error: `Internal: ${imported.left.reason}` } as PagesEnd
          const { messages, omitted } = imported.right
          for (const o of omitted) {
            yield* Effect.logWarning("connector poll: a record is published without its marketplace payload").pipe(
              Effect.annotateLogs({ externalOrderId: o.externalOrderId, reason: o.reason })
            )
          }
          const committed = yield* pollState.commitPage({
            configId: config.id,
            storeId: config.storeId,
            owner,
            leaseSeconds: run.leaseSeconds,
            cursor: page.cursor,
            messages,
            syncId: run.syncId,
            entityType: page.entityType
          })
          if (Option.isNone(committed)) return { _tag: "LeaseLost" } as PagesEnd
          const published = committed.value
          progress.published += published
          progress.pages++
          cursor = Option.some(page.cursor)
          if (!page.more) break
        }
        return { _tag: "Done" } as PagesEnd
      })

    // One poll of a config at a time on this instance too (the lease is per instance): a manual
    // poll while the fiber polls would read the same pages and move the cursor back and forth.
    const polling = new Set<string>()

    const pollOnce = (stored: StoredConfig) =>
      Effect.suspend(() => {
        if (polling.has(stored.config.id)) return Effect.succeed({ _tag: "Busy" } as PollRun)
        polling.add(stored.config.id)
        return pollExclusively(stored).pipe(Effect.ensuring(Effect.sync(() => polling.delete(stored.config.id))))
      })

    const pollExclusively = (stored: StoredConfig) =>
      Effect.gen(function*() {
        const config = stored.config
        const leaseSeconds = Math.ceil(Duration.toSeconds(intervalOf(stored))) + 60
        const lease = yield* pollState.acquire(config.id, owner, leaseSeconds)
        if (Option.isNone(lease)) return { _tag: "Busy" } as PollRun
        const startedAt = new Date(yield* Clock.currentTimeMillis)
        yield* configs.closeStaleRuns(config.id, startedAt)
        const syncId = yield* configs.startRun({ configId: config.id, storeId: config.storeId, entityType: "order", startedAt })
        const progress = { published: 0, pages: 0 }

        // Stopped (a config change, shutdown) mid-poll: what was committed stays; the log says so.
        const whenInterrupted = Effect.suspend(() =>
          progress.pages === 0
            ? configs.dropRun(syncId)
            : configs.finishRun(syncId, "FAILED", `interrupted after ${progress.published} records; the next poll goes on from there`)
        ).pipe(Effect.catchAllCause((cause) => Effect.logWarning("could not close an interrupted poll's sync-log row", cause)))

        const end = yield* readPages(stored, lease.value.cursor, { syncId, leaseSeconds }, progress).pipe(
          // Whatever goes wrong in a poll (the database, a defect) fails this poll, with its reason.
          Effect.catchAllCause((cause) =>
            Cause.isInterruptedOnly(cause)
              ? Effect.failCause(cause)
              : Effect.logWarning("connector poll failed", cause).pipe(
                Effect.as({ _tag: "Failed", error: describeCause(cause) } as PagesEnd)
              )
          ),
          Effect.onInterrupt(() => whenInterrupted)
        )
        yield* pollState.pruneImported(config.id).pipe(
          Effect.catchAll((error) => Effect.logWarning("could not prune connector_imported_changes", error))
        )
        if (end._tag === "LeaseLost") {
          yield* Effect.logWarning("connector poll stopped: another instance took over its lease meanwhile")
          if (progress.pages === 0) yield* configs.dropRun(syncId)
          else yield* configs.finishRun(syncId, "FAILED", "stopped: another instance took over this config's lease")
          return { _tag: "Busy" } as PollRun
        }
        const error = end._tag === "Failed" ? storableText(end.error, maxErrorChars) : null
        yield* configs.finishRun(syncId, error === null ? "SUCCEEDED" : "FAILED", error)
        return {
          _tag: "Polled",
          status: error === null ? "SUCCEEDED" : "FAILED",
          recordCount: progress.published,
          error
        } as PollRun
      }).pipe(
        Effect.withSpan("connectors.poll", { attributes: { "connector.config_id": stored.config.id } })
      )

    const releaseLease = (configId: string) => Effect.ignore(pollState.release(configId, owner))

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
    yield* Effect.addFinalizer(() => Effect.ignore(pollState.releaseAll(owner)))

    // One fiber per active config; a changed config (settings, credentials, activity) gets a new one.
    const fibers = yield* FiberMap.make<string>()
    const versions = new Map<string, string>()
    const reconcile = Effect.gen(function*() {
      const active = yield* configs.listActive
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
