import { Args, Options } from "@effect/cli"
import { Console, type DateTime, Effect, Option, Schema } from "effect"
import {
  Delivery,
  type DeliveryAttempt,
  DeliveryDetail,
  DeliveryId,
  DeliveryPage
} from "../../domain/webhooks/models.ts"
import { makeAdminClient } from "../client.ts"
import {
  checkInteger, clientCommand, commandGroup, decodeInput, decodeOptional, decodeSince, decodeStore, given,
  optionalInteger, optionalText, refuseWith, sinceOption, storeOption
} from "../options.ts"
import {
  type Column,
  createdColumn,
  formatFields,
  formatTable,
  formatTime,
  idColumn,
  orDash,
  paintStatus,
  plural,
  printJson,
  truncate
} from "../format.ts"
import { recordCallCommand, storeRecord } from "../commandKit.ts"
import { tailCommand } from "./deliveriesTail.ts"
import { decodeSubscriptionFlag, eventTypeOption, statusOption, subscriptionOption } from "./deliveryFlags.ts"

const retryableStatuses = ["DEAD_LETTERED", "FAILED"] as const

const decodeDeliveryId = (value: string) => decodeInput("delivery id", DeliveryId, value, "a UUID")

const decodeUntil = (value: Option.Option<string>) =>
  decodeOptional("--until", Schema.DateTimeUtc, value, "an ISO-8601 date-time, e.g. 2024-05-01T00:00:00Z")

// ---------------------------------------------------------------------------------------------
// deliveries list

/** What a webhook delivery and a connector run have in common: both go through the retry table. */
interface Attempted {
  readonly id: string
  readonly status: string
  readonly eventType: string
  readonly attemptNumber: number
  readonly nextRetryAt: DateTime.DateTime | null
  readonly createdAt: DateTime.DateTime
}

/** The columns of a delivery's or a run's table, with `more` of its own after ATTEMPTS. */
export const attemptedColumns = <A extends Attempted>(more: ReadonlyArray<Column<A>>): ReadonlyArray<Column<A>> => [
  idColumn,
  { header: "STATUS", value: (r) => r.status, colour: paintStatus },
  { header: "EVENT TYPE", value: (r) => r.eventType },
  { header: "ATTEMPTS", value: (r) => String(r.attemptNumber), align: "right" },
  ...more,
  { header: "NEXT RETRY", value: (r) => formatTime(r.nextRetryAt) },
  createdColumn
]

export const deliveryColumns: ReadonlyArray<Column<Delivery>> = attemptedColumns([
  { header: "HTTP", value: (d) => orDash(d.httpStatus), align: "right" }
])

const listCommand = clientCommand(
  "list",
  {
    store: storeOption,
    status: statusOption("Only deliveries in this status."),
    subscription: subscriptionOption("Only deliveries of this subscription (its id)."),
    eventType: eventTypeOption,
    limit: optionalInteger("limit", "Page size, 1 to 200 (the server's default when omitted)."),
    cursor: optionalText("cursor", "Continue after the previous page: the cursor it printed."),
    since: sinceOption("Only deliveries created at or after this ISO-8601 date-time."),
    until: optionalText("until", "Only deliveries created before this ISO-8601 date-time.")
  },
  (input) =>
    Effect.gen(function*() {
      const storeId = yield* decodeStore(input.store)
      const subscriptionId = yield* decodeSubscriptionFlag(input.subscription)
      const limit = yield* checkInteger("--limit", input.limit, 1, 200)
      const since = yield* decodeSince(input.since)
      const until = yield* decodeUntil(input.until)
      const client = yield* makeAdminClient(input)
      const page = yield* client.webhooks.listDeliveries({
        path: { storeId },
        urlParams: given({
          status: input.status,
          subscriptionId,
          eventType: input.eventType,
          limit,
          cursor: input.cursor,
          since,
          until
        })
      })
      if (input.json) return yield* printJson(Schema.encodeSync(DeliveryPage)(page))
      yield* Console.log(page.items.length === 0 ? "no deliveries" : formatTable(deliveryColumns, page.items))
      if (page.nextCursor !== null) yield* Console.log(`\nmore: --cursor ${page.nextCursor}`)
    }),
  {
    description: "List a store's webhook deliveries, newest first, one page at a time.",
    examples: [
      "deliveries list --store store-1",
      "deliveries list --store store-1 --status DEAD_LETTERED --limit 50",
      "deliveries list --store store-1 --event-type order.placed --json",
      "deliveries list --store store-1 --since 2024-05-01T00:00:00Z --until 2024-05-02T00:00:00Z"
    ]
  }
)

// ---------------------------------------------------------------------------------------------
// deliveries show

const attemptColumns: ReadonlyArray<Column<DeliveryAttempt>> = [
  { header: "#", value: (a) => String(a.attemptNumber), align: "right" },
  { header: "STARTED", value: (a) => formatTime(a.startedAt) },
  { header: "DURATION", value: (a) => `${a.durationMs} ms`, align: "right" },
  { header: "HTTP", value: (a) => orDash(a.httpStatus), align: "right" },
  { header: "ERROR / RESPONSE", value: (a) => truncate(a.error ?? a.responseBody ?? "", 80) || "-" }
]

const showCommand = recordCallCommand(storeRecord("delivery id", DeliveryId, "The delivery id."), "show", {
  call: (client, path) => client.webhooks.showDelivery({ path }),
  answer: DeliveryDetail,
  text: (delivery) =>
    formatFields([
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
    ]) +
    // The attempts' history under the fields, a blank line between.
    (delivery.attempts.length === 0 ? "\n\nno attempts yet" : `\n\n${formatTable(attemptColumns, delivery.attempts)}`),
  help: {
    description: "Show one delivery and the history of its attempts.",
    examples: ["deliveries show 0b7c6f3e-5a43-4c8e-9d59-3f1c0e2a9b11 --store store-1"]
  }
})

// ---------------------------------------------------------------------------------------------
// deliveries retry

const retryCommand = clientCommand(
  "retry",
  {
    id: Args.text({ name: "id" }).pipe(
      Args.withDescription("The delivery to re-trigger. Without it: bulk replay of every delivery matching the filters."),
      Args.optional
    ),
    store: storeOption,
    status: Options.choice("status", retryableStatuses).pipe(
      Options.optional,
      Options.withDescription("Bulk replay: which deliveries to re-trigger (default DEAD_LETTERED).")
    ),
    since: sinceOption("Bulk replay: only deliveries created at or after this ISO-8601 date-time."),
    subscription: subscriptionOption("Bulk replay: only deliveries of this subscription (its id)."),
    dryRun: Options.boolean("dry-run").pipe(
      Options.withDescription("Bulk replay: only count the matching deliveries; re-trigger none.")
    )
  },
  (input) =>
    Effect.gen(function*() {
      const storeId = yield* decodeStore(input.store)
      if (Option.isSome(input.id)) {
        yield* refuseWith("a delivery id (they select deliveries for a bulk replay)", {
          "--status": input.status,
          "--since": input.since,
          "--subscription": input.subscription,
          "--dry-run": input.dryRun
        })
        const id = yield* decodeDeliveryId(input.id.value)
        const client = yield* makeAdminClient(input)
        const delivery = yield* client.webhooks.retryDelivery({ path: { storeId, id } })
        if (input.json) return yield* printJson(Schema.encodeSync(Delivery)(delivery))
        return yield* Console.log(`retried delivery ${delivery.id} (status ${delivery.status}; next attempt now)`)
      }
      const since = yield* decodeSince(input.since)
      const subscriptionId = yield* decodeSubscriptionFlag(input.subscription)
      const client = yield* makeAdminClient(input)
      const { matching, retried } = yield* client.webhooks.retryDeliveries({
        path: { storeId },
        payload: {
          status: Option.getOrElse(input.status, () => "DEAD_LETTERED" as const),
          ...given({ since, subscriptionId }),
          ...(input.dryRun ? { dryRun: true } : {})
        }
      })
      if (input.dryRun) {
        if (input.json) return yield* printJson({ matching: matching ?? 0 })
        const count = matching ?? 0
        return yield* Console.log(`${plural(count, "delivery", "deliveries")} ${count === 1 ? "matches" : "match"} (dry run: none re-triggered)`)
      }
      if (input.json) return yield* printJson({ retried })
      yield* Console.log(`retried ${plural(retried, "delivery", "deliveries")}`)
    }),
  {
    description: "Re-trigger a failed or dead-lettered delivery (attempt now, then the retry table; earlier attempts are " +
      "kept). Without an id, replay every matching delivery of the store: --status (default DEAD_LETTERED), --since, " +
      "--subscription; --dry-run only counts them.",
    examples: [
      "deliveries retry 0b7c6f3e-5a43-4c8e-9d59-3f1c0e2a9b11 --store store-1",
      "deliveries retry --store store-1 --status DEAD_LETTERED --since 2024-05-01T00:00:00Z",
      "deliveries retry --store store-1 --dry-run"
    ]
  }
)

export const deliveriesCommand = commandGroup(
  "deliveries",
  "Inspect, follow and re-trigger webhook deliveries (through the admin API at --url).",
  [listCommand, showCommand, retryCommand, tailCommand]
)
