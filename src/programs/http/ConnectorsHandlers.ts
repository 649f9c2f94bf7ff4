import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Connectors } from "../connectors/Connectors.ts"
import { Api } from "../../domain/api/Api.ts"
import { outagesAnswered } from "./outages.ts"

export const ConnectorsHandlers = HttpApiBuilder.group(Api, "connectors", (handlers) =>
  Effect.gen(function*() {
    const connectors = yield* Connectors
    return handlers
      .handle("create", outagesAnswered(({ path, payload }) => connectors.create(path.storeId, payload)))
      .handle("list", outagesAnswered(({ path }) => connectors.list(path.storeId)))
      .handle("show", outagesAnswered(({ path }) => connectors.show(path.storeId, path.id)))
      .handle("update", outagesAnswered(({ path, payload }) => connectors.update(path.storeId, path.id, payload)))
      .handle("delete", outagesAnswered(({ path }) => connectors.remove(path.storeId, path.id)))
      .handle("putCredentials", outagesAnswered(({ path, payload }) => connectors.putCredentials(path.storeId, path.id, payload)))
      .handle("syncLog", outagesAnswered(({ path, urlParams }) => connectors.syncLog(path.storeId, path.id, urlParams.limit ?? 100)))
      .handle("poll", outagesAnswered(({ path }) => connectors.poll(path.storeId, path.id)))
  }))
