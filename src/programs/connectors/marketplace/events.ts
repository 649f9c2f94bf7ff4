import { Effect } from "effect"
import type { EventEnvelope } from "../../../domain/EventEnvelope.ts"
import type { HttpOut } from "../../../services/HttpOut.ts"
import type { ConnectorAdapter, ConnectorContext, ConnectorError, SyncOutcome } from "../ConnectorAdapter.ts"

type EventHandler<Settings> = (
  context: ConnectorContext<Settings>,
  event: EventEnvelope
) => Effect.Effect<SyncOutcome, ConnectorError, HttpOut>

/** What an event the adapter does not act on comes to (a config can only subscribe to supported ones). */
const nothingToDo: SyncOutcome = { entityType: "none", recordCount: 0 }

/**
 * An adapter's outbound side as a table from event type to handler: the events it supports are
 * the table's keys, in order, and every other event is nothing to do.
 */
export const eventHandlers = <Settings>(
  handlers: Readonly<Record<string, EventHandler<Settings>>>
): Pick<ConnectorAdapter<Settings>, "supportedEvents" | "handleEvent"> => ({
  supportedEvents: Object.keys(handlers),
  handleEvent: (context, event) =>
    Object.hasOwn(handlers, event.eventType) ? handlers[event.eventType]!(context, event) : Effect.succeed(nothingToDo)
})
