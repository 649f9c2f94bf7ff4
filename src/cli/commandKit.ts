import { Args, type Command } from "@effect/cli"
import { Console, Effect, Schema } from "effect"
import type { StoreId } from "../domain/EventEnvelope.ts"
import { type AdminClient, makeAdminClient } from "./client.ts"
import type { CliError } from "./failures.ts"
import { type Column, formatTable, printJson } from "./format.ts"
import type { TargetOptions } from "./target.ts"
import { clientCommand, type clientOptions, decodeInput, decodeStore, type Help, storeOption } from "./options.ts"

/** Commands that differ only in what they call and print: one definition each. */

/** The admin client's groups with a store listing (`GET /stores/{storeId}/<things>`, answering `{items}`). */
type ListingGroup = {
  [G in keyof AdminClient]: AdminClient[G] extends {
    readonly list: (request: { readonly path: { readonly storeId: typeof StoreId.Type } }) => Effect.Effect<infer _A, infer _E>
  } ? G
    : never
}[keyof AdminClient]

/** The items of a group's listing (the answer without its HTTP response). */
type ListedItem<G extends ListingGroup> = Extract<
  Effect.Effect.Success<ReturnType<AdminClient[G]["list"]>>,
  { readonly items: ReadonlyArray<unknown> }
>["items"][number]

/**
 * `<group> list --store S`: the group's listing (one API call answering `{items}`), printed as a
 * table (or `no <things>`), or as JSON.
 */
export const storeListCommand = <G extends ListingGroup, A extends ListedItem<G>, I>(options: {
  readonly group: G
  readonly things: string
  readonly item: Schema.Schema<A, I>
  readonly columns: ReadonlyArray<Column<A>>
  readonly help: Help
}) => {
  const List = Schema.Struct({ items: Schema.Array(options.item) })
  return clientCommand("list", { store: storeOption }, (input) =>
    Effect.gen(function*() {
      const storeId = yield* decodeStore(input.store)
      const client = yield* makeAdminClient(input)
      const list = (yield* client[options.group].list({ path: { storeId } })) as { readonly items: ReadonlyArray<A> }
      if (input.json) return yield* printJson(Schema.encodeSync(List)(list))
      yield* Console.log(list.items.length === 0 ? `no ${options.things}` : formatTable(options.columns, list.items))
    }), options.help)
}

/** `<group> delete ID --store S`: prints `deleted <thing> ID` (or `{id, deleted: true}`). */
export const deleteByIdCommand = <Id extends string, E, R>(options: {
  readonly thing: string
  readonly record: StoreRecord<Id>
  readonly remove: (
    client: AdminClient,
    path: { readonly storeId: typeof StoreId.Type; readonly id: Id }
  ) => Effect.Effect<unknown, E, R>
  readonly help: Help
}) =>
  recordCommand(options.record, "delete", {}, (input, path) =>
    Effect.gen(function*() {
      const client = yield* makeAdminClient(input)
      yield* options.remove(client, path)
      yield* input.json ? printJson({ id: path.id, deleted: true }) : Console.log(`deleted ${options.thing} ${path.id}`)
    }), options.help)

/** How commands name one of a store's records: the `ID` argument, and its path for the API. */
export interface StoreRecord<Id> {
  readonly idArg: Args.Args<string>
  /** `{storeId, id}` from `--store` and the `ID` argument, each checked in that order (a bad one named). */
  readonly pathOf: (input: { readonly store: string; readonly id: string }) => Effect.Effect<
    { readonly storeId: typeof StoreId.Type; readonly id: Id },
    CliError
  >
}

/** A kind of store record, named `what` in errors (`connector id "x" is invalid: …`); its id is a UUID. */
export const storeRecord = <Id>(what: string, id: Schema.Schema<Id, string>, description: string): StoreRecord<Id> => ({
  idArg: Args.text({ name: "id" }).pipe(Args.withDescription(description)),
  pathOf: (input) => Effect.all({ storeId: decodeStore(input.store), id: decodeInput(what, id, input.id, "a UUID") })
})

type RecordConfig<C> = C & { readonly id: Args.Args<string>; readonly store: typeof storeOption } & typeof clientOptions

/**
 * `<group> <name> ID --store S [flags]`: the record's path is decoded first, then `body` runs
 * with it (checking its own flags before it makes the client, so those errors come first).
 */
export const recordCommand = <Id, Name extends string, const C extends Command.Command.Config, E, R>(
  record: StoreRecord<Id>,
  name: Name,
  flags: C,
  body: (
    input: Command.Command.ParseConfig<RecordConfig<C>>,
    path: { readonly storeId: typeof StoreId.Type; readonly id: Id }
  ) => Effect.Effect<unknown, E, R>,
  help: Help
) =>
  clientCommand(name, { id: record.idArg, store: storeOption, ...flags }, (parsed) => {
    const input = parsed as Command.Command.ParseConfig<RecordConfig<C>>
    // The `id` and `store` declared above: TypeScript cannot see them through a generic C's parsed config.
    const named = parsed as unknown as { readonly store: string; readonly id: string }
    return Effect.flatMap(record.pathOf(named), (path) => body(input, path))
  }, help)

/**
 * `<group> <name> ID --store S [flags]`: one call about one record, its answer printed as JSON (as
 * its schema encodes it) or as `text`. `prepare` checks the flags first (before the client is
 * made, so their errors come first); `after` runs once the answer is printed (an exit status, say).
 */
export const recordCallCommand = <
  Id,
  A,
  I,
  E,
  R,
  const C extends Command.Command.Config = {},
  X = void,
  PrepareE = never,
  AfterE = never
>(record: StoreRecord<Id>, name: string, options: {
  readonly flags?: C
  readonly prepare?: (input: Command.Command.ParseConfig<RecordConfig<C>>) => Effect.Effect<X, PrepareE>
  readonly call: (
    client: AdminClient,
    path: { readonly storeId: typeof StoreId.Type; readonly id: Id },
    prepared: X
  ) => Effect.Effect<A, E, R>
  readonly answer: Schema.Schema<A, I>
  readonly text: (answer: A) => string
  readonly after?: (answer: A) => Effect.Effect<void, AfterE>
  readonly help: Help
}) =>
  recordCommand(record, name, options.flags ?? ({} as C), (input, path) =>
    Effect.gen(function*() {
      // The client options every command has: TypeScript cannot see them through a generic C's parsed config.
      const common = input as unknown as TargetOptions & { readonly json: boolean }
      const prepared = options.prepare === undefined ? (undefined as X) : yield* options.prepare(input)
      const client = yield* makeAdminClient(common)
      const answer = yield* options.call(client, path, prepared)
      yield* common.json ? printJson(Schema.encodeSync(options.answer)(answer)) : Console.log(options.text(answer))
      if (options.after !== undefined) yield* options.after(answer)
    }), options.help)
