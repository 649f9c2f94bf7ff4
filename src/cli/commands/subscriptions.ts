import { Options } from "@effect/cli"
import { Console, Effect, Option, Schema } from "effect"
import { EventSelector, Subscription, SubscriptionId, SubscriptionWithSecret } from "../../domain/webhooks/models.ts"
import { makeAdminClient } from "../client.ts"
import { CliError } from "../failures.ts"
import {
  activeOption, checkInteger, clientCommand, commandGroup, decodeActive, decodeInput, decodeStore, given,
  nonEmptyList, optionalInteger, optionalText, requireChanges, storeOption
} from "../options.ts"
import { deleteByIdCommand, recordCallCommand, recordCommand, storeListCommand, storeRecord } from "../commandKit.ts"
import { type Column, createdColumn, formatFields, formatTime, idColumn, printJson, recordFields, truncate } from "../format.ts"

export const subscriptionColumns: ReadonlyArray<Column<Subscription>> = [
  idColumn,
  { header: "NAME", value: (s) => truncate(s.name, 40) },
  { header: "TARGET URL", value: (s) => truncate(s.targetUrl, 60) },
  { header: "EVENTS", value: (s) => truncate(s.events.join(","), 60) },
  { header: "ACTIVE", value: (s) => (s.isActive ? "yes" : "no") },
  { header: "HEALTH", value: (s) => s.health?.state ?? "-" },
  { header: "FAILING", value: (s) => (s.health ? String(s.health.consecutiveFailures) : "-"), align: "right" },
  { header: "BACKLOG", value: (s) => (s.health ? String(s.health.backlog) : "-"), align: "right" },
  createdColumn
]

const subscriptionRecord = storeRecord("subscription id", SubscriptionId, "The subscription id (see `subscriptions list`).")

const eventsOption = Options.text("event").pipe(
  Options.repeated,
  Options.withDescription("An event type to deliver, e.g. order.placed, or * for every event; repeat for several.")
)
const active = activeOption("yes: deliver events; no: paused (nothing is delivered, nothing is lost from the history).")

const decodeEvents = (events: ReadonlyArray<string>) =>
  Effect.forEach(events, (e) => decodeInput("--event", EventSelector, e, "an event type like order.placed, or *"))

const subscriptionFields = (s: Subscription) =>
  recordFields("subscription", s, [
    ["name", s.name],
    ["target url", s.targetUrl],
    ["events", s.events.join(" ")],
    ["active", s.isActive ? "yes" : "no"],
    ...(s.disabledReason !== null ? [["disabled because", s.disabledReason] as const] : []),
    ["max in flight", String(s.maxInFlight)],
    ...(s.health
      ? [
        ["health", s.health.state] as const,
        ["failures in a row", String(s.health.consecutiveFailures)] as const,
        ["last success", formatTime(s.health.lastSuccessAt)] as const,
        ["last failure", formatTime(s.health.lastFailureAt)] as const,
        ["backlog", String(s.health.backlog)] as const
      ]
      : []),
    ["created", formatTime(s.createdAt)],
    ["updated", formatTime(s.updatedAt)]
  ])

/** Printed with a new signing secret (create, rotate): the only time it is shown. */
const printWithSecret = (json: boolean, s: SubscriptionWithSecret) =>
  json
    ? printJson(Schema.encodeSync(SubscriptionWithSecret)(s))
    : Console.log(
      `${subscriptionFields(s)}\n\n${formatFields([["signing secret", s.signingSecret]])}\n\n` +
        "The signing secret is shown only now: the receiver verifies X-SS3-Signature with it " +
        "(`integration-service receiver --secret …`)."
    )

const listCommand = storeListCommand({
  group: "webhooks",
  things: "subscriptions",
  item: Subscription,
  columns: subscriptionColumns,
  help: {
    description: "List a store's webhook subscriptions (signing secrets are never shown).",
    examples: ["subscriptions list --store store-1", "subscriptions list --store store-1 --json"]
  }
})

const createCommand = clientCommand(
  "create",
  {
    store: storeOption,
    name: Options.text("name").pipe(Options.withDescription("What the subscription is for, e.g. erp-orders.")),
    targetUrl: Options.text("target-url").pipe(
      Options.withDescription("Where events are POSTed: https in live mode (dev mode also takes http://localhost).")
    ),
    events: eventsOption,
    active
  },
  (input) =>
    Effect.gen(function*() {
      const storeId = yield* decodeStore(input.store)
      if (input.events.length === 0) {
        return yield* new CliError({ message: "give at least one --event (an event type like order.placed, or *)" })
      }
      const events = yield* decodeEvents(input.events)
      const client = yield* makeAdminClient(input)
      const created = yield* client.webhooks.create({
        path: { storeId },
        payload: { name: input.name, targetUrl: input.targetUrl, events, ...given({ isActive: decodeActive(input.active) }) }
      })
      yield* printWithSecret(input.json, created)
    }),
  {
    description: "Subscribe a URL to event types. Prints the subscription and its signing secret (shown only now).",
    examples: [
      "subscriptions create --store store-1 --name erp --target-url https://erp.example.com/hooks --event order.placed",
      "subscriptions create --store store-1 --name local --target-url http://localhost:9000/hook --event '*' --json"
    ]
  }
)

const showCommand = recordCallCommand(subscriptionRecord, "show", {
  call: (client, path) => client.webhooks.show({ path }),
  answer: Subscription,
  text: subscriptionFields,
  help: {
    description: "Show one webhook subscription (its signing secret is never shown: `rotate` issues a new one).",
    examples: ["subscriptions show 6d2b1e0a-7c4f-4b0e-8f2a-1e5d9c3b7a42 --store store-1"]
  }
})

const updateCommand = recordCallCommand(subscriptionRecord, "update", {
  flags: {
    name: optionalText("name", "A new name."),
    targetUrl: optionalText("target-url", "A new target URL."),
    events: eventsOption.pipe(Options.withDescription("The event types, replacing the current ones; repeat for several.")),
    active
  },
  prepare: (input) =>
    Effect.gen(function*() {
      const events = yield* Effect.transposeOption(Option.map(nonEmptyList(input.events), decodeEvents))
      return yield* requireChanges(
        given({ name: input.name, targetUrl: input.targetUrl, events, isActive: decodeActive(input.active) }),
        "--name, --target-url, --event or --active"
      )
    }),
  call: (client, path, patch) => client.webhooks.update({ path, payload: patch }),
  answer: Subscription,
  text: subscriptionFields,
  help: {
    description: "Change a subscription: only the flags given change (--event replaces the whole list).",
    examples: [
      "subscriptions update 6d2b1e0a-7c4f-4b0e-8f2a-1e5d9c3b7a42 --store store-1 --active no",
      "subscriptions update 6d2b1e0a-7c4f-4b0e-8f2a-1e5d9c3b7a42 --store store-1 --event order.placed --event order.paid"
    ]
  }
})

const deleteCommand = deleteByIdCommand({
  thing: "subscription",
  record: subscriptionRecord,
  remove: (client, path) => client.webhooks.delete({ path }),
  help: {
    description: "Delete a subscription: no new deliveries are made for it; its signing secret is removed.",
    examples: ["subscriptions delete 6d2b1e0a-7c4f-4b0e-8f2a-1e5d9c3b7a42 --store store-1"]
  }
})

const rotateCommand = recordCommand(
  subscriptionRecord,
  "rotate",
  {
    overlapSeconds: optionalInteger(
      "overlap-seconds",
      "How long the old secret still signs too (webhook-signature carries both): default 86400, 0 ends it at once."
    )
  },
  (input, path) =>
    Effect.gen(function*() {
      const overlapSeconds = yield* checkInteger("--overlap-seconds", input.overlapSeconds, 0, 30 * 86_400)
      const client = yield* makeAdminClient(input)
      yield* printWithSecret(input.json, yield* client.webhooks.rotateSecret({ path, payload: given({ overlapSeconds }) }))
    }),
  {
    description: "Replace a subscription's signing secret: deliveries from now on are signed with the new one, " +
      "printed once; during the overlap the old one signs too.",
    examples: [
      "subscriptions rotate 6d2b1e0a-7c4f-4b0e-8f2a-1e5d9c3b7a42 --store store-1",
      "subscriptions rotate 6d2b1e0a-7c4f-4b0e-8f2a-1e5d9c3b7a42 --store store-1 --overlap-seconds 0"
    ]
  }
)

export const subscriptionsCommand = commandGroup(
  "subscriptions",
  "Create, inspect, change, delete webhook subscriptions and rotate their signing secrets (through the admin API at --url).",
  [listCommand, createCommand, showCommand, updateCommand, deleteCommand, rotateCommand]
)
