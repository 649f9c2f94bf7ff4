import { Effect, ParseResult, Schema } from "effect"
import type { EventEnvelope } from "../../../domain/EventEnvelope.ts"
import { ConnectorError } from "../ConnectorAdapter.ts"

/** An event's `data` as the connector needs it; a mismatch is Invalid, naming the event and the field. */
export const decodeEventData = <A, I>(schema: Schema.Schema<A, I>, event: EventEnvelope) =>
  Schema.decodeUnknown(schema)(event.data).pipe(
    Effect.mapError((e) =>
      new ConnectorError({
        kind: "Invalid",
        message: `${event.eventType} ${event.eventId}: ${ParseResult.TreeFormatter.formatErrorSync(e)}`
      })
    )
  )
