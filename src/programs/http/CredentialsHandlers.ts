import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../../domain/api/Api.ts"
import { Credentials } from "../credentials/Credentials.ts"
import { outagesAnswered } from "./outages.ts"

export const CredentialsHandlers = HttpApiBuilder.group(Api, "credentials", (handlers) =>
  Effect.gen(function*() {
    const credentials = yield* Credentials
    return handlers
      .handle("issue", outagesAnswered(({ path, payload, headers }) =>
        credentials.issue(path.storeId, { ...payload, createdBy: headers["x-ss3-actor"] ?? "admin-token" })))
      .handle("list", outagesAnswered(({ path }) => credentials.list(path.storeId)))
      .handle("show", outagesAnswered(({ path }) => credentials.show(path.storeId, path.id)))
      .handle("revoke", outagesAnswered(({ path }) => credentials.revoke(path.storeId, path.id)))
      .handle("rotate", outagesAnswered(({ path }) => credentials.rotate(path.storeId, path.id)))
  }))
