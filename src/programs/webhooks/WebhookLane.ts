import { Clock, Duration, Effect, Option } from "effect"
import { delayAfterFailedAttempt } from "../../domain/webhooks/retrySchedule.ts"
import {
  deadLetteredTopic,
  deliveredTopic,
  encodeDeadLettered,
  encodeDelivered,
  encodeEndpointDisabled,
  endpointDisabledTopic
} from "../../domain/webhooks/events.ts"
import { defaultBreakerPolicy, tallyAttempts } from "../../domain/webhooks/breaker.ts"
import { goneStatus, honoursRetryAfter, retryAfterMs, waitBeforeRetry } from "../../domain/webhooks/receiverSignals.ts"
import { ss3Signature, standardSignature } from "../../domain/webhooks/signing.ts"
import { CryptoPrimitives } from "../../services/CryptoPrimitives.ts"
import { AppConfig } from "../../services/AppConfig.ts"
import {
  type AttemptResult,
  type ClaimedDelivery,
  type DisabledSubscription,
  DeliveryStore,
  type OutboxMessage,
  type Outcome
} from "../../services/DeliveryStore.ts"
import { HttpOut, type OutboundResponse } from "../../services/HttpOut.ts"
import { type DeliveryLane, postponed } from "../delivery/DeliveryLane.ts"
import { webhookDeliveryLatency } from "../delivery/metrics.ts"
import { DeliveryTimings, millis } from "../delivery/timings.ts"
import { spanWhenTracing } from "../spans.ts"
import { SigningSecrets } from "./SigningSecrets.ts"

const encoder = new TextEncoder()

type Response =
  | { readonly _tag: "Response"; readonly response: OutboundResponse }
  | { readonly _tag: "Error"; readonly error: string; readonly durationMs: number }

const isSuccess = (status: number) => status >= 200 && status < 300

/**
 * The delivery's next state after this attempt, per the retry table at the
 * cycle's position (attempt numbers themselves run on across re-triggers).
 * A receiver's `Retry-After` (on 429/503) can only make the wait longer. A
 * `410 Gone` spends none of the cycle: the subscription is disabled and the
 * delivery waits, due, for it to be switched on again. Neither does a failed
 * probe of an open breaker: the delivery waits, due, for the next probe.
 */
const resultOf = (delivery: ClaimedDelivery, startedAt: Date, response: Response): AttemptResult => {
  const attemptNumber = delivery.attempt_number + 1
  const httpStatus = response._tag === "Response" ? response.response.status : null
  const ok = httpStatus !== null && isSuccess(httpStatus)
  const spendsNothing = !ok && (httpStatus === goneStatus || delivery.probe)
  const cycleAttempts = spendsNothing ? delivery.cycle_attempts : delivery.cycle_attempts + 1
  const next = ok ? Option.none() : spendsNothing ? Option.some(Duration.zero) : delayAfterFailedAttempt(cycleAttempts)
  const status = ok ? "DELIVERED" as const : Option.isSome(next) ? "FAILED" as const : "DEAD_LETTERED" as const
  const lastFailure = response._tag === "Response" ? `HTTP ${response.response.status}` : response.error
  const asked = response._tag === "Response" && honoursRetryAfter(response.response.status)
    ? retryAfterMs(response.response.headers["retry-after"], startedAt.getTime() + response.response.durationMs)
    : Option.none()
  return {
    deliveryId: delivery.delivery_id,
    subscriptionId: delivery.subscription_id,
    connector: null,
    storeId: delivery.store_id,
    eventType: delivery.event_type,
    attemptNumber,
    cycleAttempts,
    startedAt,
    durationMs: response._tag === "Response" ? response.response.durationMs : response.durationMs,
    httpStatus: response._tag === "Response" ? response.response.status : null,
    responseBody: response._tag === "Response" ? response.response.body : null,
    error: response._tag === "Error" ? response.error : null,
    status,
    retryInMs: Option.match(next, { onNone: () => null, onSome: (d) => waitBeforeRetry(Duration.toMillis(d), asked) }),
    reason: status === "DEAD_LETTERED" ? `${cycleAttempts} attempts failed; the last: ${lastFailure}` : null
  }
}

/** Event occurredAt → this 2xx, when the envelope's time reads as one (in the attempt's synchronous step: no fiber labels). */
const observeLatencyNow = (delivery: ClaimedDelivery, answeredMs: number) => {
  const occurred = delivery.occurred_at === null ? Number.NaN : Date.parse(delivery.occurred_at)
  if (!Number.isNaN(occurred)) webhookDeliveryLatency.unsafeUpdate(Math.max(0, answeredMs - occurred) / 1000, [])
}

/** Outcomes that end a delivery are announced: delivered, or dead-lettered. */
export const outcomeMessages = (r: AttemptResult): ReadonlyArray<OutboxMessage> =>
  r.status === "DELIVERED"
    ? [{
      topic: deliveredTopic,
      key: r.storeId,
      value: encodeDelivered({ deliveryId: r.deliveryId, subscriptionId: r.subscriptionId ?? "", storeId: r.storeId, eventType: r.eventType })
    }]
    : r.status === "DEAD_LETTERED"
    ? [{
      topic: deadLetteredTopic,
      key: r.storeId,
      value: encodeDeadLettered({ deliveryId: r.deliveryId, subscriptionId: r.subscriptionId ?? "", storeId: r.storeId, reason: r.reason ?? "" })
    }]
    : []

/**
 * Webhook deliveries in the engine: one attempt is a POST of the stored
 * envelope (the exact bytes signed) with the SPEC.md headers. Anything the
 * receiver does — an answer, a timeout, a refused connection — is an attempt
 * on the retry table. The secret store being unreachable is our outage, not
 * theirs: the attempt is postponed and none of their retries is spent.
 * Recorded results announce themselves on Kafka through the outbox.
 */
export const makeWebhookLane = Effect.gen(function*() {
  const config = yield* AppConfig
  const timings = yield* DeliveryTimings
  const http = yield* HttpOut
  const secrets = yield* SigningSecrets
  const hmac = (yield* CryptoPrimitives).hmacSha256
  const store = yield* DeliveryStore
  const breaker = config.webhook.breaker ?? defaultBreakerPolicy
  const httpsOnly = config.mode === "live" && !config.webhook.allowInsecureTargets
  const postponeMs = millis(timings.postponeDelay)

  // One attempt in as few runtime steps as it takes (read the time, the keys, the request): it runs
  // once per delivery, and the engine's own steps were a large share of a delivery's CPU.
  const attempt = (delivery: ClaimedDelivery): Effect.Effect<Outcome> =>
    Effect.flatMap(Clock.currentTimeMillis, (startedMs) => {
      const startedAt = new Date(startedMs)
      const attempted = (response: Response): Outcome => ({ _tag: "Attempted", result: resultOf(delivery, startedAt, response) })
      const targetUrl = delivery.target_url ?? ""
      if (httpsOnly && !targetUrl.startsWith("https://")) {
        return Effect.succeed(attempted({ _tag: "Error", error: "InsecureTarget: only https targets are allowed", durationMs: 0 }))
      }
      return Effect.matchEffect(secrets.key(delivery.subscription_id ?? "", delivery.secret_version ?? 0), {
        onFailure: (error) =>
          Effect.succeed(
            error._tag === "VaultError"
              ? postponed(delivery, postponeMs, "the secret store is unreachable")
              : attempted({ _tag: "Error", error: `${error._tag}: ${error.message}`, durationMs: 0 })
          ),
        onSuccess: (keys) => {
          const body = encoder.encode(delivery.body)
          // Standard Webhooks: this attempt's time, signed with the delivery id and the body (replay protection).
          const timestamp = Math.floor(startedMs / 1000)
          // During a rotation's overlap both secrets sign webhook-signature, the new one first; X-SS3-Signature is the new one's.
          const signature = ss3Signature(hmac, keys.current, body)
          const signers = [keys.current, ...(delivery.previous_secret_active ? Option.toArray(keys.previous) : [])]
          const standardSignatures = signers
            .map((k) => standardSignature(hmac, k, delivery.delivery_id, timestamp, body))
            .join(" ")
          return Effect.match(
            http.request({
              method: "POST",
              url: targetUrl,
              headers: {
                "content-type": "application/json",
                "x-ss3-event": delivery.event_type,
                "x-ss3-delivery": delivery.delivery_id,
                "x-ss3-signature": signature,
                "webhook-id": delivery.delivery_id,
                "webhook-timestamp": String(timestamp),
                "webhook-signature": standardSignatures,
                ...(delivery.replay ? { "x-ss3-replay": "true" } : {})
              },
              body
            }),
            {
              onFailure: (error) => attempted({ _tag: "Error", error: error.message, durationMs: error.durationMs }),
              onSuccess: (response) => {
                if (isSuccess(response.status)) observeLatencyNow(delivery, startedMs + response.durationMs)
                return attempted({ _tag: "Response", response })
              }
            }
          )
        }
      })
    }).pipe(
      spanWhenTracing("webhooks.attempt", {
        attributes: { "webhook.delivery_id": delivery.delivery_id, "webhook.attempt": delivery.attempt_number + 1 },
        // A stack trace per attempt costs more than the attempt's own code; the span's name says where it is.
        captureStackTrace: false
      })
    )

  const disabledMessage = (d: DisabledSubscription): OutboxMessage => ({
    topic: endpointDisabledTopic,
    key: d.storeId,
    value: encodeEndpointDisabled({ subscriptionId: d.subscriptionId, storeId: d.storeId, reason: d.reason })
  })

  /**
   * Results, their announcements, their endpoints' health and a 410 Gone's
   * endpoint switched off, in one statement; then an endpoint failing without a
   * success for too long is switched off, in a transaction of its own (should
   * that be cut off, its next failure does it). Each disable is announced once
   * (by the write that found the subscription still on).
   */
  const recordAttempts = (results: ReadonlyArray<AttemptResult>) =>
    Effect.gen(function*() {
      const webhooks = results.filter((r) => r.subscriptionId !== null)
      const counted = webhooks.filter((r) => r.httpStatus !== goneStatus)
      const gone = webhooks.filter((r) => r.httpStatus === goneStatus).map((r) => {
        const reason = `the receiver answered 410 Gone (delivery ${r.deliveryId}, attempt ${r.attemptNumber})`
        return {
          subscriptionId: r.subscriptionId!,
          deliveryId: r.deliveryId,
          reason,
          announcement: disabledMessage({ subscriptionId: r.subscriptionId!, storeId: r.storeId, reason })
        }
      })
      const { changes, recorded } = yield* store.recordWebhookAttempts(results, {
        announce: outcomeMessages,
        tallies: tallyAttempts(counted.map((r) => ({ subscriptionId: r.subscriptionId!, ok: r.status === "DELIVERED", at: r.startedAt }))),
        gone,
        policy: breaker
      })
      for (const b of changes.breakers) {
        yield* (b.change === "opened"
          ? Effect.logWarning("webhook endpoint paused: its circuit breaker opened; one probe per interval")
          : Effect.logInfo("webhook endpoint resumed: its circuit breaker closed")).pipe(
            Effect.annotateLogs({ subscriptionId: b.subscriptionId, storeId: b.storeId, consecutiveFailures: b.consecutiveFailures })
          )
      }
      const failing = changes.failing.map((f) => ({
        subscriptionId: f.subscriptionId,
        reason: `failing without a success since ${f.failingSince.toISOString()} (longer than ${
          Duration.format(breaker.disableAfter)
        })`
      }))
      const disabled = [
        ...changes.disabled,
        ...(failing.length === 0 ? [] : yield* store.disableAnnounced(failing, disabledMessage))
      ]
      for (const d of disabled) {
        yield* Effect.logWarning("webhook endpoint disabled; its waiting deliveries are kept").pipe(
          Effect.annotateLogs({ subscriptionId: d.subscriptionId, storeId: d.storeId, reason: d.reason })
        )
      }
      return recorded.length
    })

  return {
    lane: "webhook",
    concurrency: timings.webhookConcurrency,
    leaseSeconds: timings.webhookLeaseSeconds,
    attempt,
    failedResult: (delivery, error, startedAt, durationMs) =>
      resultOf(delivery, startedAt, { _tag: "Error", error, durationMs }),
    recordAttempts
  } satisfies DeliveryLane
})
