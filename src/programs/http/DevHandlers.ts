import { HttpApiBuilder } from "@effect/platform"
import { DateTime, Effect } from "effect"
import { EventEnvelope } from "../../domain/EventEnvelope.ts"
import { AppConfig } from "../../services/AppConfig.ts"
import { Kafka } from "../../services/Kafka.ts"
import { Api } from "../../domain/api/Api.ts"
import { NotFound, ServiceUnavailable } from "../../domain/api/errors.ts"

export const DevHandlers = HttpApiBuilder.group(Api, "dev", (handlers) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const kafka = yield* Kafka
    return handlers.handle("publishEvent", ({ payload }) =>
      Effect.gen(function*() {
        if (config.mode !== "dev") return yield* Effect.fail(NotFound.of("route"))
        const envelope = new EventEnvelope({
          eventId: payload.eventId ?? crypto.randomUUID(),
          eventType: payload.eventType,
          storeId: payload.storeId,
          occurredAt: DateTime.formatIso(yield* DateTime.now),
          data: payload.data ?? {}
        })
        const topic = payload.topic ?? payload.eventType
        yield* kafka.publish(topic, [{ key: envelope.storeId, value: JSON.stringify(envelope) }]).pipe(
          Effect.mapError((e) => ServiceUnavailable.of(e.message))
        )
        return { topic, eventId: envelope.eventId }
      }))
  }))
