import { Options } from "@effect/cli"
import type { Option } from "effect"
import { DeliveryStatus, SubscriptionId } from "../../domain/webhooks/models.ts"
import { decodeOptional, optionalText } from "../options.ts"

/** Flags that select deliveries, shared by `deliveries list`, `retry` and `tail`. */

export const decodeSubscriptionFlag = (value: Option.Option<string>) =>
  decodeOptional("--subscription", SubscriptionId, value, "a subscription id (UUID)")

export const statusOption = (description: string) =>
  Options.choice("status", DeliveryStatus.literals).pipe(Options.optional, Options.withDescription(description))

export const subscriptionOption = (description: string) => optionalText("subscription", description)

export const eventTypeOption = optionalText("event-type", "Only deliveries of this event type, e.g. order.placed.")
