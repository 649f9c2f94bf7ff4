import { Effect, Option } from "effect"
import type { ConfigId } from "../../domain/connectors/models.ts"
import { ConnectorConfigsRepo } from "../../services/ConnectorConfigsRepo.ts"
import { type BulkRetryFilter, DeliveriesRepo, type DeliveryQuery } from "../../services/DeliveriesRepo.ts"
import { DeliverySignals } from "../delivery/DeliverySignals.ts"
import { InvalidRequest, NotFound } from "../../domain/api/errors.ts"
import { toConnectorRun, toConnectorRunDetail } from "../delivery/views.ts"
import { answerRetry } from "../webhooks/retryAnswer.ts"

const runWords = { thing: "connector run", noun: "run", inFlight: "this run is in progress; try again in a moment" }

/** A config's outbound runs, listed and re-triggered like webhook deliveries. */
export class ConnectorRuns extends Effect.Service<ConnectorRuns>()("integration-service/ConnectorRuns", {
  effect: Effect.gen(function*() {
    const deliveries = yield* DeliveriesRepo
    const signals = yield* DeliverySignals
    const configs = yield* ConnectorConfigsRepo
    /** The config must be the store's: runs of another store's config are not found. */
    const ownConfig = (storeId: string, id: ConfigId) =>
      configs.find(storeId, id).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(NotFound.of("connector config")),
          onSome: () => Effect.succeed({ kind: "connector" as const, configId: id })
        }))
      )
    const signal = (ids: ReadonlyArray<string>) => signals.signal(ids.map((deliveryId) => ({ deliveryId, lane: "connector" as const })))

    return {
      list: (storeId: string, id: ConfigId, query: DeliveryQuery) =>
        Effect.gen(function*() {
          const page = yield* deliveries.list(storeId, yield* ownConfig(storeId, id), query).pipe(
            Effect.catchTag("InvalidCursor", () => Effect.fail(InvalidRequest.of("cursor: is not a cursor this API returned")))
          )
          return { items: page.items.map(toConnectorRun), nextCursor: page.nextCursor }
        }),
      show: (storeId: string, id: ConfigId, runId: string) =>
        Effect.gen(function*() {
          const found = yield* deliveries.find(storeId, yield* ownConfig(storeId, id), runId)
          return yield* Option.match(found, {
            onNone: () => Effect.fail(NotFound.of("connector run")),
            onSome: (run) => Effect.succeed(toConnectorRunDetail(run))
          })
        }),
      retry: (storeId: string, id: ConfigId, runId: string) =>
        Effect.gen(function*() {
          const outcome = yield* deliveries.retry(storeId, yield* ownConfig(storeId, id), runId)
          return toConnectorRun(yield* answerRetry(outcome, runWords, signal))
        }),
      retryMany: (storeId: string, id: ConfigId, filter: BulkRetryFilter) =>
        Effect.gen(function*() {
          const ids = yield* deliveries.retryMany(storeId, yield* ownConfig(storeId, id), filter)
          yield* signal(ids)
          return { retried: ids.length }
        })
    }
  })
}) {}
