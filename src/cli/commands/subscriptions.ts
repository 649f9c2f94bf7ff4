import { Command } from "@effect/cli"
import { Console, Effect, Schema } from "effect"
import { Subscription } from "../../domain/webhooks/models.ts"
import {
  clientOptions,
  type ClientOptions,
  decodeStore,
  makeAdminClient,
  printJson,
  runCommand,
  storeOption
} from "../client.ts"
import { type Column, formatTable, formatTime, truncate } from "../format.ts"

export const subscriptionColumns: ReadonlyArray<Column<Subscription>> = [
  { header: "ID", value: (s) => s.id },
  { header: "NAME", value: (s) => truncate(s.name, 40) },
  { header: "TARGET URL", value: (s) => truncate(s.targetUrl, 60) },
  { header: "EVENTS", value: (s) => truncate(s.events.join(","), 60) },
  { header: "ACTIVE", value: (s) => (s.isActive ? "yes" : "no") },
  { header: "CREATED", value: (s) => formatTime(s.createdAt) }
]

const SubscriptionList = Schema.Struct({ items: Schema.Array(Subscription) })

export interface ListSubscriptionsInput extends ClientOptions {
  readonly store: string
}

export const listSubscriptions = (input: ListSubscriptionsInput) =>
  Effect.gen(function*() {
    const storeId = yield* decodeStore(input.store)
    const client = yield* makeAdminClient(input)
    const list = yield* client.webhooks.list({ path: { storeId } })
    if (input.json) return yield* printJson(Schema.encodeSync(SubscriptionList)(list))
    yield* Console.log(list.items.length === 0 ? "no subscriptions" : formatTable(subscriptionColumns, list.items))
  })

const listCommand = Command.make(
  "list",
  { ...clientOptions, store: storeOption },
  (input) => runCommand(listSubscriptions(input))
).pipe(Command.withDescription("List a store's webhook subscriptions (signing secrets are never shown)."))

export const subscriptionsCommand = Command.make("subscriptions").pipe(
  Command.withDescription("Inspect webhook subscriptions (through the admin API at --url)."),
  Command.withSubcommands([listCommand])
)
