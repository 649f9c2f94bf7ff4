import type { Args } from "@effect/cli"
import { Console, Effect, Schema } from "effect"
import type { StoreId } from "../domain/EventEnvelope.ts"
import { type AdminClient, makeAdminClient } from "./client.ts"
import type { CliError } from "./failures.ts"
import { type Column, formatTable, printJson } from "./format.ts"
import { clientCommand, decodeStore, type Help, storeOption } from "./options.ts"

/** Commands that differ only in what they call and print: one definition each. */

/**
 * `<group> list --store S`: one API call answering `{items}`, printed as a
 * table (or `no <things>`), or as JSON.
 */
export const storeListCommand = <A, I, E, R>(options: {
  readonly things: string
  readonly item: Schema.Schema<A, I>
  readonly columns: ReadonlyArray<Column<A>>
  readonly list: (client: AdminClient, storeId: typeof StoreId.Type) => Effect.Effect<{ readonly items: ReadonlyArray<A> }, E, R>
  readonly help: Help
}) => {
  const List = Schema.Struct({ items: Schema.Array(options.item) })
  return clientCommand("list", { store: storeOption }, (input) =>
    Effect.gen(function*() {
      const storeId = yield* decodeStore(input.store)
      const client = yield* makeAdminClient(input)
      const list = yield* options.list(client, storeId)
      if (input.json) return yield* printJson(Schema.encodeSync(List)(list))
      yield* Console.log(list.items.length === 0 ? `no ${options.things}` : formatTable(options.columns, list.items))
    }), options.help)
}

/** `<group> delete ID --store S`: prints `deleted <thing> ID` (or `{id, deleted: true}`). */
export const deleteByIdCommand = <P extends { readonly id: string }, E, R>(options: {
  readonly thing: string
  readonly idArg: Args.Args<string>
  readonly pathOf: (input: { readonly store: string; readonly id: string }) => Effect.Effect<P, CliError>
  readonly remove: (client: AdminClient, path: P) => Effect.Effect<unknown, E, R>
  readonly help: Help
}) =>
  clientCommand("delete", { id: options.idArg, store: storeOption }, (input) =>
    Effect.gen(function*() {
      const path = yield* options.pathOf(input)
      const client = yield* makeAdminClient(input)
      yield* options.remove(client, path)
      yield* input.json ? printJson({ id: path.id, deleted: true }) : Console.log(`deleted ${options.thing} ${path.id}`)
    }), options.help)
