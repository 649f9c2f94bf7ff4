import { Console, DateTime, Duration, Effect, Option, Schema } from "effect"
import { Delivery } from "../../domain/webhooks/models.ts"
import { makeAdminClient } from "../client.ts"
import { describeFailure } from "../failures.ts"
import { checkInteger, clientCommand, decodeStore, given, optionalInteger, storeOption } from "../options.ts"
import { formatTime, orDash, paintStatus } from "../format.ts"
import { decodeSubscriptionFlag, eventTypeOption, statusOption, subscriptionOption } from "./deliveryFlags.ts"

/** What changes when a delivery is attempted (or re-triggered, or dead-lettered). */
const versionOf = (d: Delivery) => `${d.attemptNumber}|${d.status}|${DateTime.toEpochMillis(d.updatedAt)}`

export const formatTailLine = (d: Delivery) =>
  [
    formatTime(d.updatedAt),
    d.id,
    paintStatus(d.status),
    d.eventType,
    `attempt ${d.attemptNumber}`,
    `HTTP ${orDash(d.httpStatus)}`,
    ...(d.nextRetryAt === null ? [] : [`next retry ${formatTime(d.nextRetryAt)}`])
  ].join("  ")

/**
 * Follows a store's deliveries by polling the admin API (its newest 200 on each
 * poll): one line each time a delivery appears or changes — an attempt, a
 * re-trigger, a dead letter. `--json`: one JSON object per line.
 */
export const tailCommand = clientCommand(
  "tail",
  {
    store: storeOption,
    status: statusOption("Only deliveries that are now in this status (e.g. DEAD_LETTERED: dead letters as they happen)."),
    subscription: subscriptionOption("Only deliveries of this subscription (its id)."),
    eventType: eventTypeOption,
    interval: optionalInteger("interval", "Seconds between polls, 1 to 60. Default 2."),
    count: optionalInteger("count", "Stop after printing this many changes (1 to 100000). Default: follow until Ctrl-C.")
  },
  (input) =>
    Effect.gen(function*() {
      const storeId = yield* decodeStore(input.store)
      const subscriptionId = yield* decodeSubscriptionFlag(input.subscription)
      const interval = Duration.seconds(Option.getOrElse(yield* checkInteger("--interval", input.interval, 1, 60), () => 2))
      const count = yield* checkInteger("--count", input.count, 1, 100_000)
      const client = yield* makeAdminClient(input)
      const poll = client.webhooks.listDeliveries({
        path: { storeId },
        urlParams: { ...given({ status: input.status, subscriptionId, eventType: input.eventType }), limit: 200 }
      })
      const seen = new Map<string, string>()
      const remember = (items: ReadonlyArray<Delivery>) => {
        const changed = items.filter((d) => seen.get(d.id) !== versionOf(d))
        for (const d of changed) seen.set(d.id, versionOf(d))
        // The API answers newest first; a log reads oldest first.
        return changed.reverse()
      }
      // What is there already is the starting point, not news (a failure here is the command's).
      remember((yield* poll).items)
      yield* Console.error(`following deliveries of store ${storeId} every ${Duration.format(interval)} (Ctrl-C to stop)`)
      let printed = 0
      let failing = false
      while (Option.isNone(count) || printed < count.value) {
        yield* Effect.sleep(interval)
        const page = yield* Effect.either(poll)
        if (page._tag === "Left") {
          // A restart or a network blip: say so once, and keep following.
          if (!failing) yield* Console.error(`warning: ${describeFailure(page.left)} (still trying)`)
          failing = true
          continue
        }
        if (failing) yield* Console.error("reconnected")
        failing = false
        for (const d of remember(page.right.items)) {
          if (Option.isSome(count) && printed >= count.value) break
          yield* Console.log(input.json ? JSON.stringify(Schema.encodeSync(Delivery)(d)) : formatTailLine(d))
          printed++
        }
      }
    }),
  {
    description: "Follow a store's webhook deliveries live: a line for every new delivery and every attempt, re-trigger " +
      "or dead letter, by polling the admin API every --interval seconds (its newest 200 deliveries each time).",
    examples: [
      "deliveries tail --store store-1",
      "deliveries tail --store store-1 --status DEAD_LETTERED",
      "deliveries tail --store store-1 --event-type order.placed --json --count 10"
    ]
  }
)
