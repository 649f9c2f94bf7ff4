import { HttpApiEndpoint, type HttpApiGroup, type HttpApiMiddleware, HttpApiSchema, OpenApi } from "@effect/platform"
import { type Context, Schema } from "effect"
import { StoreId } from "../EventEnvelope.ts"
import { Items } from "../records.ts"
import { Forbidden, InvalidRequest, NotFound, ServiceUnavailable } from "./errors.ts"
import { strict } from "./payloads.ts"

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

/** `/stores/{storeId}/<things>`, and the path schema of its one parameter. */
const storeCollection = <const Things extends string>(things: Things) =>
  [`/stores/:storeId/${things}`, Schema.Struct({ storeId: storeIdParam })] as const

/** POST `/stores/{storeId}/<things>`: a strict payload, 201 with what was made, 400 for a payload it refuses. */
export const createEndpoint = <const Name extends string, P extends Schema.Schema.Any, A, I, R>(
  name: Name,
  things: string,
  options: { readonly payload: P; readonly created: Schema.Schema<A, I, R>; readonly summary: string }
) => {
  const [path, params] = storeCollection(things)
  return HttpApiEndpoint.post(name, path)
    .setPath(params)
    .setPayload(strict(options.payload))
    .addSuccess(options.created, { status: 201 })
    .addError(InvalidRequest)
    .annotate(OpenApi.Summary, options.summary)
}

/** GET `/stores/{storeId}/<things>`: every one of the store's, as `{items}`. */
export const listEndpoint = <A, I, R>(things: string, item: Schema.Schema<A, I, R>) => {
  const [path, params] = storeCollection(things)
  return HttpApiEndpoint.get("list", path).setPath(params).addSuccess(Items(item))
}

/** `/stores/{storeId}/<things>/{id}` (and what follows it), and the path schema of its two parameters. */
const storeItem = <IdA, IdR>(things: string, id: Schema.Schema<IdA, string, IdR>, rest = "") =>
  [`/stores/:storeId/${things}/:id${rest}`, Schema.Struct({ storeId: storeIdParam, id })] as const

/** GET `/stores/{storeId}/<things>/{id}`: one of them, or 404. */
export const showEndpoint = <IdA, IdR, A, I, R>(
  things: string,
  id: Schema.Schema<IdA, string, IdR>,
  item: Schema.Schema<A, I, R>
) => {
  const [path, params] = storeItem(things, id)
  return HttpApiEndpoint.get("show", path).setPath(params).addSuccess(item).addError(NotFound)
}

/** PATCH `/stores/{storeId}/<things>/{id}`: a strict payload of what changes, the changed one, 404 or 400. */
export const updateEndpoint = <IdA, IdR, P extends Schema.Schema.Any, A, I, R>(
  things: string,
  id: Schema.Schema<IdA, string, IdR>,
  payload: P,
  item: Schema.Schema<A, I, R>
) => {
  const [path, params] = storeItem(things, id)
  return HttpApiEndpoint.patch("update", path)
    .setPath(params)
    .setPayload(strict(payload))
    .addSuccess(item)
    .addError(NotFound)
    .addError(InvalidRequest)
}

/** DELETE `/stores/{storeId}/<things>/{id}`: 204, or 404. */
export const deleteEndpoint = <IdA, IdR>(things: string, id: Schema.Schema<IdA, string, IdR>) => {
  const [path, params] = storeItem(things, id)
  return HttpApiEndpoint.del("delete", path).setPath(params).addSuccess(HttpApiSchema.NoContent).addError(NotFound)
}

/** POST `/stores/{storeId}/<things>/{id}/<action>`: what the action answers, or 404. */
export const actionEndpoint = <const Name extends string, IdA, IdR, A, I, R>(
  name: Name,
  things: string,
  id: Schema.Schema<IdA, string, IdR>,
  action: string,
  answer: Schema.Schema<A, I, R>
) => {
  const [path, params] = storeItem(things, id, `/${action}`)
  return HttpApiEndpoint.post(name, path).setPath(params).addSuccess(answer).addError(NotFound)
}

/**
 * The five endpoints of a resource a store keeps (create, list, show, update, delete), added to
 * a group in that order. `create` and `update` are their payloads; create answers `created`
 * (the item itself unless given: a subscription's answer adds its signing secret).
 */
export const storeResource = <IdA, IdR, A, I, R, C extends Schema.Schema.Any, U extends Schema.Schema.Any, CA = A, CI = I, CR = R>(
  things: string,
  id: Schema.Schema<IdA, string, IdR>,
  options: {
    readonly item: Schema.Schema<A, I, R>
    readonly created?: Schema.Schema<CA, CI, CR>
    readonly create: C
    readonly update: U
    readonly createSummary: string
  }
) =>
<GroupId extends string, Endpoints extends HttpApiEndpoint.HttpApiEndpoint.Any, Error, GroupR, TopLevel extends boolean>(
  group: HttpApiGroup.HttpApiGroup<GroupId, Endpoints, Error, GroupR, TopLevel>
) =>
  group
    .add(createEndpoint("create", things, {
      payload: options.create,
      // Without `created`, CA, CI and CR are not inferred and default to the item's types.
      created: options.created ?? (options.item as unknown as Schema.Schema<CA, CI, CR>),
      summary: options.createSummary
    }))
    .add(listEndpoint(things, options.item))
    .add(showEndpoint(things, id, options.item))
    .add(updateEndpoint(things, id, options.update, options.item))
    .add(deleteEndpoint(things, id))
