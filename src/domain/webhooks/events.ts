import { Schema } from "effect"

/**
 * What this service publishes about webhook deliveries (SPEC.md "Kafka
 * topics"), keyed by store id. The lane encodes every message with these
 * schemas: the shape on the wire is declared here, once.
 */
export const deliveredTopic = "webhook.delivered"
export const deadLetteredTopic = "webhook.dead_lettered"
export const endpointDisabledTopic = "webhook.endpoint_disabled"

/** A delivery a receiver took (2xx). */
export const WebhookDelivered = Schema.Struct({
  deliveryId: Schema.String,
  subscriptionId: Schema.String,
  storeId: Schema.String,
  eventType: Schema.String
})

/** A delivery whose retry table ran out. */
export const WebhookDeadLettered = Schema.Struct({
  deliveryId: Schema.String,
  subscriptionId: Schema.String,
  storeId: Schema.String,
  reason: Schema.String
})

/** A subscription switched off by the engine (410 Gone, or failing for too long); its waiting deliveries are kept. */
export const WebhookEndpointDisabled = Schema.Struct({
  subscriptionId: Schema.String,
  storeId: Schema.String,
  reason: Schema.String
})

/** Each message as the compact JSON that goes on the topic. */
export const encodeDelivered = Schema.encodeSync(Schema.parseJson(WebhookDelivered))
export const encodeDeadLettered = Schema.encodeSync(Schema.parseJson(WebhookDeadLettered))
export const encodeEndpointDisabled = Schema.encodeSync(Schema.parseJson(WebhookEndpointDisabled))
