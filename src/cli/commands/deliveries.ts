import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option, Schema } from "effect"
import {
  Delivery,
  type DeliveryAttempt,
  DeliveryDetail,
  DeliveryId,
  DeliveryPage,
  DeliveryStatus,
  SubscriptionId
} from "../../domain/webhooks/models.ts"
import {
  clientOptions,
  CliError,
  type ClientOptions,
  decodeInput,
  decodeStore,
  makeAdminClient,
  printJson,
  runCommand,
  storeOption
} from "../client.ts"
import { type Column, formatFields, formatTable, formatTime, orDash, truncate } from "../format.ts"

const statuses = DeliveryStatus.literals
const retryableStatuses = ["DEAD_LETTERED", "FAILED"] as const

const decodeDeliveryId = (value: string) => decodeInput("delivery id", DeliveryId, value, "a UUID")
const decodeSubscription = (value: string) => decodeInput("--subscription", SubscriptionId, value, "a subscription id (UUID)")

const subscriptionOption = (description: string) =>
  Options.text("subscription").pipe(Options.optional, Options.withDescription(description))

// ---------------------------------------------------------------------------------------------
// deliveries list

export const deliveryColumns: ReadonlyArray<Column<Delivery>> = [
  { header: "ID", value: (d) => d.id },
  { header: "STATUS", value: (d) => d.status },
  { header: "EVENT TYPE", value: (d) => d.eventType },
  { header: "ATTEMPTS", value: (d) => String(d.attemptNumber), align: "right" },
  { header: "HTTP", value: (d) => orDash(d.httpStatus), align: "right" },
  { header: "NEXT RETRY", value: (d) => formatTime(d.nextRetryAt) },
  { header: "CREATED", value: (d) => formatTime(d.createdAt) }
]

export interface ListDeliveriesInput extends ClientOptions {
  readonly store: string
  readonly status: Option.Option<DeliveryStatus>
  readonly subscription: Option.Option<string>
  readonly eventType: Option.Option<string>
  readonly limit: Option.Option<number>
  readonly cursor: Option.Option<string>
  /** Created at or after / before these ISO-8601 instants. */
  readonly since?: Option.Option<string>
  readonly until?: Option.Option<string>
}

const instantExpected = "an ISO-8601 date-time, e.g. 2024-05-01T00:00:00Z"
const decodeInstant = (flag: string, value: Option.Option<string> | undefined) =>
  Effect.transposeOption(Option.map(value ?? Option.none(), (v) => decodeInput(flag, Schema.DateTimeUtc, v, instantExpected)))

export const listDeliveries = (input: ListDeliveriesInput) =>
  Effect.gen(function*() {
    const storeId = yield* decodeStore(input.store)
    const subscriptionId = yield* Effect.transposeOption(Option.map(input.subscription, decodeSubscription))
    if (Option.isSome(input.limit) && (input.limit.value < 1 || input.limit.value > 200)) {
      return yield* new CliError({ message: `--limit ${input.limit.value} is invalid: expected 1 to 200` })
    }
    const since = yield* decodeInstant("--since", input.since)
    const until = yield* decodeInstant("--until", input.until)
    const client = yield* makeAdminClient(input)
    const page = yield* client.webhooks.listDeliveries({
      path: { storeId },
      urlParams: {
        ...Option.match(input.status, { onNone: () => ({}), onSome: (status) => ({ status }) }),
        ...Option.match(subscriptionId, { onNone: () => ({}), onSome: (id) => ({ subscriptionId: id }) }),
        ...Option.match(input.eventType, { onNone: () => ({}), onSome: (eventType) => ({ eventType }) }),
        ...Option.match(input.limit, { onNone: () => ({}), onSome: (limit) => ({ limit }) }),
        ...Option.match(input.cursor, { onNone: () => ({}), onSome: (cursor) => ({ cursor }) }),
        ...Option.match(since, { onNone: () => ({}), onSome: (value) => ({ since: value }) }),
        ...Option.match(until, { onNone: () => ({}), onSome: (value) => ({ until: value }) })
      }
    })
    if (input.json) return yield* printJson(Schema.encodeSync(DeliveryPage)(page))
    yield* Console.log(page.items.length === 0 ? "no deliveries" : formatTable(deliveryColumns, page.items))
    if (page.nextCursor !== null) yield* Console.log(`\nmore: --cursor ${page.nextCursor}`)
  })

const listCommand = Command.make(
  "list",
  {
    ...clientOptions,
    store: storeOption,
    status: Options.choice("status", statuses).pipe(
      Options.optional,
      Options.withDescription("Only deliveries in this status.")
    ),
    subscription: subscriptionOption("Only deliveries of this subscription (its id)."),
    eventType: Options.text("event-type").pipe(
      Options.optional,
      Options.withDescription("Only deliveries of this event type, e.g. order.placed.")
    ),
    limit: Options.integer("limit").pipe(
      Options.optional,
      Options.withDescription("Page size, 1 to 200 (the server's default when omitted).")
    ),
    cursor: Options.text("cursor").pipe(
      Options.optional,
      Options.withDescription("Continue after the previous page: the cursor it printed.")
    ),
    since: Options.text("since").pipe(
      Options.optional,
      Options.withDescription("Only deliveries created at or after this ISO-8601 date-time.")
    ),
    until: Options.text("until").pipe(
      Options.optional,
      Options.withDescription("Only deliveries created before this ISO-8601 date-time.")
    )
  },
  (input) => runCommand(listDeliveries(input))
).pipe(Command.withDescription("List a store's webhook deliveries, newest first, one page at a time."))

// ---------------------------------------------------------------------------------------------
// deliveries show

const attemptColumns: ReadonlyArray<Column<DeliveryAttempt>> = [
  { header: "#", value: (a) => String(a.attemptNumber), align: "right" },
  { header: "STARTED", value: (a) => formatTime(a.startedAt) },
  { header: "DURATION", value: (a) => `${a.durationMs} ms`, align: "right" },
  { header: "HTTP", value: (a) => orDash(a.httpStatus), align: "right" },
  { header: "ERROR / RESPONSE", value: (a) => truncate(a.error ?? a.responseBody ?? "", 80) || "-" }
]

export interface ShowDeliveryInput extends ClientOptions {
  readonly id: string
  readonly store: string
}

export const showDelivery = (input: ShowDeliveryInput) =>
  Effect.gen(function*() {
    const storeId = yield* decodeStore(input.store)
    const id = yield* decodeDeliveryId(input.id)
    const client = yield* makeAdminClient(input)
    const delivery = yield* client.webhooks.showDelivery({ path: { storeId, id } })
    if (input.json) return yield* printJson(Schema.encodeSync(DeliveryDetail)(delivery))
    yield* Console.log(formatFields([
      ["delivery", delivery.id],
      ["status", delivery.status],
      ["event", `${delivery.eventType} (event id ${delivery.eventId})`],
      ["subscription", delivery.subscriptionId],
      ["store", delivery.storeId],
      ["attempts", String(delivery.attemptNumber)],
      ["http status", orDash(delivery.httpStatus)],
      ["next retry", formatTime(delivery.nextRetryAt)],
      ["delivered", formatTime(delivery.deliveredAt)],
      ["created", formatTime(delivery.createdAt)],
      ["updated", formatTime(delivery.updatedAt)]
    ]))
    yield* Console.log(
      delivery.attempts.length === 0 ? "\nno attempts yet" : `\n${formatTable(attemptColumns, delivery.attempts)}`
    )
  })

const showCommand = Command.make(
  "show",
  {
    ...clientOptions,
    id: Args.text({ name: "id" }).pipe(Args.withDescription("The delivery id.")),
    store: storeOption
  },
  (input) => runCommand(showDelivery(input))
).pipe(Command.withDescription("Show one delivery and the history of its attempts."))

// ---------------------------------------------------------------------------------------------
// deliveries retry

export interface RetryDeliveriesInput extends ClientOptions {
  readonly id: Option.Option<string>
  readonly store: string
  readonly status: Option.Option<(typeof retryableStatuses)[number]>
  readonly since: Option.Option<string>
  readonly subscription: Option.Option<string>
  /** Bulk replay: only count the matching deliveries. */
  readonly dryRun?: boolean
}

export const retryDeliveries = (input: RetryDeliveriesInput) =>
  Effect.gen(function*() {
    const storeId = yield* decodeStore(input.store)
    if (Option.isSome(input.id)) {
      const filters = [
        Option.isSome(input.status) ? "--status" : undefined,
        Option.isSome(input.since) ? "--since" : undefined,
        Option.isSome(input.subscription) ? "--subscription" : undefined,
        input.dryRun === true ? "--dry-run" : undefined
      ].filter((f) => f !== undefined)
      if (filters.length > 0) {
        return yield* new CliError({
          message: `${filters.join(", ")} select deliveries for a bulk replay: give either a delivery id or filters, not both`
        })
      }
      const id = yield* decodeDeliveryId(input.id.value)
      const client = yield* makeAdminClient(input)
      const delivery = yield* client.webhooks.retryDelivery({ path: { storeId, id } })
      if (input.json) return yield* printJson(Schema.encodeSync(Delivery)(delivery))
      return yield* Console.log(`retried delivery ${delivery.id} (status ${delivery.status}; next attempt now)`)
    }
    const since = yield* decodeInstant("--since", input.since)
    const subscriptionId = yield* Effect.transposeOption(Option.map(input.subscription, decodeSubscription))
    const client = yield* makeAdminClient(input)
    const { retried, matching } = yield* client.webhooks.retryDeliveries({
      path: { storeId },
      payload: {
        status: Option.getOrElse(input.status, () => "DEAD_LETTERED" as const),
        ...Option.match(since, { onNone: () => ({}), onSome: (value) => ({ since: value }) }),
        ...Option.match(subscriptionId, { onNone: () => ({}), onSome: (id) => ({ subscriptionId: id }) }),
        ...(input.dryRun === true ? { dryRun: true } : {})
      }
    })
    if (input.dryRun === true) {
      if (input.json) return yield* printJson({ matching: matching ?? 0 })
      return yield* Console.log(`${matching ?? 0} deliveries match (dry run: none re-triggered)`)
    }
    if (input.json) return yield* printJson({ retried })
    yield* Console.log(`retried ${retried} deliveries`)
  })

const retryCommand = Command.make(
  "retry",
  {
    ...clientOptions,
    id: Args.text({ name: "id" }).pipe(
      Args.withDescription("The delivery to re-trigger. Without it: bulk replay of every delivery matching the filters."),
      Args.optional
    ),
    store: storeOption,
    status: Options.choice("status", retryableStatuses).pipe(
      Options.optional,
      Options.withDescription("Bulk replay: which deliveries to re-trigger (default DEAD_LETTERED).")
    ),
    since: Options.text("since").pipe(
      Options.optional,
      Options.withDescription("Bulk replay: only deliveries created at or after this ISO-8601 date-time.")
    ),
    subscription: subscriptionOption("Bulk replay: only deliveries of this subscription (its id)."),
    dryRun: Options.boolean("dry-run").pipe(
      Options.withDescription("Bulk replay: only count the matching deliveries; re-trigger none.")
    )
  },
  (input) => runCommand(retryDeliveries(input))
).pipe(
  Command.withDescription(
    "Re-trigger a failed or dead-lettered delivery (attempt now, then the retry table; earlier attempts are kept). " +
      "Without an id, replay every matching delivery of the store: --status (default DEAD_LETTERED), --since, --subscription " +
      "(--dry-run counts them first)."
  )
)

export const deliveriesCommand = Command.make("deliveries").pipe(
  Command.withDescription("Inspect and re-trigger webhook deliveries (through the admin API at --url)."),
  Command.withSubcommands([listCommand, showCommand, retryCommand])
)
