import { type HttpApiEndpoint, type HttpApiGroup, type HttpApiMiddleware, HttpApiSchema, OpenApi } from "@effect/platform"
import type { Context } from "effect"
import { StoreId } from "../EventEnvelope.ts"
import { Forbidden, ServiceUnavailable } from "./errors.ts"

/** The `{storeId}` path segment every store's route starts with. */
export const storeIdParam = HttpApiSchema.param("storeId", StoreId)

/**
 * What every guarded group ends with: the middleware that checks the caller, the 403 (a caller
 * without the right) and 503 (database or secret store down) any of its routes can answer, and
 * the title of its OpenAPI tag.
 */
export const guardedBy = <I extends HttpApiMiddleware.HttpApiMiddleware.AnyId, S>(auth: Context.Tag<I, S>, title: string) =>
<Id extends string, Endpoints extends HttpApiEndpoint.HttpApiEndpoint.Any, Error, R, TopLevel extends boolean>(
  group: HttpApiGroup.HttpApiGroup<Id, Endpoints, Error, R, TopLevel>
) => group.addError(Forbidden).addError(ServiceUnavailable).middleware(auth).annotate(OpenApi.Title, title)
