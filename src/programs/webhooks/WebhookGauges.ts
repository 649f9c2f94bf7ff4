import { Effect, Ref } from "effect"
import { DeliveryStore } from "../../services/DeliveryStore.ts"
import type { GaugeSample } from "../http/prometheus.ts"
import { DeliveryTimings } from "../delivery/timings.ts"
import { supervised } from "../delivery/supervised.ts"

/** Endpoints labelled in the backlog-age gauge: the ones waiting longest (bounded cardinality). */
export const backlogTopEndpoints = 20

const ageHelp = "Seconds the oldest waiting webhook delivery has waited since it was created: overall, and (subscription_id) for the 20 endpoints waiting longest"
const statesHelp = "Webhook endpoints by health state (healthy, failing, paused: breaker open, disabled)"

/**
 * The webhook backlog and endpoint states as /metrics shows them, read from
 * the database every `backlogSampleInterval` (not per scrape: a scrape never
 * waits for the database, and an outage leaves the last values). Rendered as
 * scrape-time samples, so an endpoint leaving the top 20 leaves the output.
 * Every instance reads the same numbers: aggregate them with max().
 */
export class WebhookGauges extends Effect.Service<WebhookGauges>()("integration-service/WebhookGauges", {
  scoped: Effect.gen(function*() {
    const store = yield* DeliveryStore
    const timings = yield* DeliveryTimings
    const latest = yield* Ref.make<ReadonlyArray<GaugeSample>>([])

    const sample = store.webhookBacklog(backlogTopEndpoints).pipe(
      Effect.flatMap((backlog) =>
        Ref.set(latest, [
          { name: "webhook_backlog_oldest_age_seconds", help: ageHelp, labels: [], value: backlog.oldestAgeSeconds },
          ...backlog.oldestBySubscription.map((s) => ({
            name: "webhook_backlog_oldest_age_seconds",
            help: ageHelp,
            labels: [["subscription_id", s.subscriptionId] as const],
            value: s.ageSeconds
          })),
          ...Object.entries(backlog.endpointsByState).map(([state, n]) => ({
            name: "webhook_endpoints",
            help: statesHelp,
            labels: [["state", state] as const],
            value: n
          }))
        ])
      ),
      Effect.catchAll((error) =>
        Effect.logWarning("could not read the webhook backlog for /metrics; the last values stay").pipe(
          Effect.annotateLogs({ why: error.message })
        )
      )
    )
    yield* Effect.forkScoped(
      supervised("webhook backlog sampler", Effect.zipRight(sample, Effect.sleep(timings.backlogSampleInterval)))
    )
    return { samples: Ref.get(latest) }
  })
}) {}
