import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { EventType, StoreId } from "../EventEnvelope.ts"
import { AdminAuth } from "./auth.ts"
import { NotFound, ServiceUnavailable } from "./errors.ts"
import { strict } from "./payloads.ts"

export const PublishTestEvent = Schema.Struct({
  eventType: EventType,
  storeId: StoreId,
  data: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  eventId: Schema.optional(Schema.UUID),
  /** Default: the event type itself (e.g. `order.placed`). */
  topic: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9._-]{1,249}$/)))
})

export const PublishedTestEvent = Schema.Struct({ topic: Schema.String, eventId: Schema.UUID })

/**
 * Dev mode only: the event bus lives inside the dev server's process, so the
 * CLI's `events publish` reaches it through this route. Live mode answers 404.
 */
export class DevApi extends HttpApiGroup.make("dev")
  .add(
    HttpApiEndpoint.post("publishEvent", "/dev/events")
      .setPayload(strict(PublishTestEvent))
      .addSuccess(PublishedTestEvent, { status: 202 })
      .addError(NotFound)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Summary, "Publish a test event onto the in-process bus (dev mode only)")
  )
  .middleware(AdminAuth)
  .annotate(OpenApi.Exclude, true)
{}
