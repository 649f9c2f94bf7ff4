import { Duration, Effect, Option } from "effect"
import { delayAfterFailedAttempt } from "../../domain/webhooks/retrySchedule.ts"
import { sign } from "../../domain/webhooks/signature.ts"
import { HttpOut, type HttpOutError, type OutboundResponse } from "../../services/HttpOut.ts"
import type { AttemptResult, ClaimedDelivery } from "./DeliveriesRepo.ts"
import type { SqlClient } from "@effect/sql/SqlClient"
import { attemptConnectorRun } from "../connectors/connectorAttempt.ts"
import type { ConnectorRuntime } from "../connectors/ConnectorRuntime.ts"
import { SigningSecrets } from "./SigningSecrets.ts"

/** What is kept of a receiver's answer: enough to debug, not a copy of their page. */
const storedBodyBytes = 4096
const encoder = new TextEncoder()

const clip = (text: string) => (text.length > storedBodyBytes ? text.slice(0, storedBodyBytes) : text)

export interface AttemptOptions {
  /** Live mode without WEBHOOK_ALLOW_INSECURE_TARGETS: only https targets are contacted. */
  readonly httpsOnly: boolean
}

type Outcome =
  | { readonly _tag: "Response"; readonly response: OutboundResponse }
  | { readonly _tag: "Error"; readonly error: string; readonly durationMs: number }

/**
 * One attempt: POST the stored envelope (the exact bytes signed) with the
 * SPEC.md headers, and turn what happened into the delivery's next state per
 * the retry table. Never fails: every failure is a failed attempt.
 */
const attemptWebhook = (delivery: ClaimedDelivery, options: AttemptOptions) =>
  Effect.gen(function*() {
    const http = yield* HttpOut
    const secrets = yield* SigningSecrets
    const targetUrl = delivery.target_url ?? ""
    const startedAt = new Date()
    const body = encoder.encode(delivery.body)

    const outcome: Outcome = yield* Effect.gen(function*() {
      if (options.httpsOnly && !targetUrl.startsWith("https://")) {
        return { _tag: "Error", error: "InsecureTarget: only https targets are allowed", durationMs: 0 } as const
      }
      const key = yield* secrets.key(delivery.subscription_id ?? "", delivery.secret_version ?? 0)
      const signature = yield* sign(key, body)
      const response = yield* http.request({
        method: "POST",
        url: targetUrl,
        headers: {
          "content-type": "application/json",
          "x-ss3-event": delivery.event_type,
          "x-ss3-delivery": delivery.delivery_id,
          "x-ss3-signature": signature
        },
        body
      })
      return { _tag: "Response", response } as const
    }).pipe(
      Effect.catchAll((error: HttpOutError | { readonly _tag: string; readonly message: string }) =>
        Effect.succeed({
          _tag: "Error",
          error: `${error._tag === "HttpOutError" ? "" : `${error._tag}: `}${error.message}`,
          durationMs: "durationMs" in error ? (error.durationMs as number) : Date.now() - startedAt.getTime()
        } as const)
      )
    )

    const attemptNumber = delivery.attempt_number + 1
    const ok = outcome._tag === "Response" && outcome.response.status >= 200 && outcome.response.status < 300
    const next = ok ? Option.none() : delayAfterFailedAttempt(attemptNumber)
    const status = ok ? "DELIVERED" as const : Option.isSome(next) ? "FAILED" as const : "DEAD_LETTERED" as const
    const lastFailure = outcome._tag === "Response" ? `HTTP ${outcome.response.status}` : outcome.error

    return {
      deliveryId: delivery.delivery_id,
      subscriptionId: delivery.subscription_id,
      connector: null,
      storeId: delivery.store_id,
      eventType: delivery.event_type,
      attemptNumber,
      startedAt,
      durationMs: outcome._tag === "Response" ? outcome.response.durationMs : outcome.durationMs,
      httpStatus: outcome._tag === "Response" ? outcome.response.status : null,
      responseBody: outcome._tag === "Response" ? clip(outcome.response.body) : null,
      error: outcome._tag === "Error" ? outcome.error.slice(0, 1000) : null,
      status,
      retryInMs: Option.match(next, { onNone: () => null, onSome: Duration.toMillis }),
      reason: status === "DEAD_LETTERED"
        ? `${attemptNumber} attempts failed; the last: ${lastFailure}`
        : null
    } satisfies AttemptResult
  }).pipe(
    Effect.withSpan("webhooks.attempt", {
      attributes: { "webhook.delivery_id": delivery.delivery_id, "webhook.attempt": delivery.attempt_number + 1 }
    })
  )

/**
 * One attempt of a claimed delivery: a webhook POST, or a connector run of the
 * event (same claims, same retry table, same recording).
 */
export const attemptDelivery = (
  delivery: ClaimedDelivery,
  options: AttemptOptions
): Effect.Effect<AttemptResult, never, HttpOut | SigningSecrets | ConnectorRuntime | SqlClient> =>
  delivery.config_id === null ? attemptWebhook(delivery, options) : attemptConnectorRun(delivery, delivery.config_id)
