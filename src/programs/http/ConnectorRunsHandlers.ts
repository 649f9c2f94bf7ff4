import { HttpApiBuilder } from "@effect/platform"
import { DateTime, Effect, Option } from "effect"
import type { ConfigId } from "../../domain/connectors/models.ts"
import { DeliveriesRepo } from "../../services/DeliveriesRepo.ts"
import { ConnectorConfigsRepo } from "../../services/ConnectorConfigsRepo.ts"
import { DeliverySignals } from "../delivery/DeliverySignals.ts"
import { Api } from "./Api.ts"
import { Conflict, InvalidRequest, NotFound } from "./ApiErrors.ts"
import { toConnectorRun, toConnectorRunDetail } from "./deliveryViews.ts"
import { asUnavailable } from "./outages.ts"

const databaseDown = asUnavailable

export const ConnectorRunsHandlers = HttpApiBuilder.group(Api, "connectorRuns", (handlers) =>
  Effect.gen(function*() {
    const deliveries = yield* DeliveriesRepo
    const signals = yield* DeliverySignals
    const configs = yield* ConnectorConfigsRepo
    /** The config must be the store's: runs of another store's config are not found. */
    const ownConfig = (storeId: string, id: ConfigId) =>
      configs.find(storeId, id).pipe(
        Effect.mapError(asUnavailable),
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(NotFound.of("connector config")),
          onSome: () => Effect.succeed({ kind: "connector" as const, configId: id })
        }))
      )
    const signal = (ids: ReadonlyArray<string>) => signals.signal(ids.map((deliveryId) => ({ deliveryId, lane: "connector" as const })))

    return handlers
      .handle("list", ({ path: { storeId, id }, urlParams }) =>
        Effect.gen(function*() {
          const target = yield* ownConfig(storeId, id)
          const page = yield* deliveries.list(storeId, target, urlParams).pipe(
            Effect.catchTags({
              InvalidCursor: () => Effect.fail(InvalidRequest.of("cursor: is not a cursor this API returned")),
              PersistenceError: (error) => Effect.fail(databaseDown(error))
            })
          )
          return { items: page.items.map(toConnectorRun), nextCursor: page.nextCursor }
        }))
      .handle("show", ({ path: { storeId, id, runId } }) =>
        Effect.gen(function*() {
          const target = yield* ownConfig(storeId, id)
          const found = yield* deliveries.find(storeId, target, runId).pipe(Effect.mapError(databaseDown))
          return yield* Option.match(found, {
            onNone: () => Effect.fail(NotFound.of("connector run")),
            onSome: (run) => Effect.succeed(toConnectorRunDetail(run))
          })
        }))
      .handle("retry", ({ path: { storeId, id, runId } }) =>
        Effect.gen(function*() {
          const target = yield* ownConfig(storeId, id)
          const outcome = yield* deliveries.retry(storeId, target, runId).pipe(Effect.mapError(databaseDown))
          switch (outcome._tag) {
            case "NotFound":
              return yield* Effect.fail(NotFound.of("connector run"))
            case "NotRetriable":
              return yield* Effect.fail(Conflict.of(`a ${outcome.status} run cannot be re-triggered`))
            case "InFlight":
              return yield* Effect.fail(Conflict.of("this run is in progress; try again in a moment"))
            case "Retried":
              yield* signal([outcome.delivery.id])
              return toConnectorRun(outcome.delivery)
          }
        }))
      .handle("retryMany", ({ path: { storeId, id }, payload }) =>
        Effect.gen(function*() {
          const target = yield* ownConfig(storeId, id)
          const ids = yield* deliveries.retryMany(storeId, target, {
            status: payload.status,
            since: payload.since ? DateTime.toDate(payload.since) : undefined
          }).pipe(Effect.mapError(databaseDown))
          yield* signal(ids)
          return { retried: ids.length }
        }))
  }))
