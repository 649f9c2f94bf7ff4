import { Duration } from "effect"

/**
 * The circuit breaker of a webhook endpoint (issue 12 item 5): after
 * `failureThreshold` failed attempts in a row it opens — the endpoint's due
 * attempts wait, spending none of their retries — and one probe attempt goes
 * out every `probeInterval`; a success closes it and the backlog flows. An
 * endpoint failing without a success for `disableAfter` is disabled as with
 * 410 Gone. Nothing is dead-lettered because of either.
 */
export interface BreakerPolicy {
  readonly failureThreshold: number
  readonly probeInterval: Duration.Duration
  readonly disableAfter: Duration.Duration
}

export const defaultBreakerPolicy: BreakerPolicy = {
  failureThreshold: 20,
  probeInterval: Duration.seconds(60),
  disableAfter: Duration.days(5)
}

/** One recorded attempt as the breaker sees it. */
export interface EndpointAttempt {
  readonly subscriptionId: string
  readonly ok: boolean
  readonly at: Date
}

/** A batch's attempts of one endpoint, summed up in the order they started. */
export interface EndpointTally {
  readonly subscriptionId: string
  /** Whether any attempt succeeded: the count in a row then starts after the last success. */
  readonly succeeded: boolean
  readonly lastSuccessAt: Date | null
  /** Failures after the last success (all of them when none succeeded). */
  readonly failures: number
  readonly firstFailureAt: Date | null
  readonly lastFailureAt: Date | null
}

export const tallyAttempts = (attempts: ReadonlyArray<EndpointAttempt>): ReadonlyArray<EndpointTally> => {
  const bySubscription = new Map<string, Array<EndpointAttempt>>()
  for (const a of attempts) {
    const list = bySubscription.get(a.subscriptionId) ?? []
    list.push(a)
    bySubscription.set(a.subscriptionId, list)
  }
  return [...bySubscription.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([subscriptionId, list]) => {
    const ordered = [...list].sort((a, b) => a.at.getTime() - b.at.getTime())
    let lastSuccess = -1
    ordered.forEach((a, i) => {
      if (a.ok) lastSuccess = i
    })
    const after = ordered.slice(lastSuccess + 1)
    const failed = ordered.filter((a) => !a.ok)
    return {
      subscriptionId,
      succeeded: lastSuccess >= 0,
      lastSuccessAt: lastSuccess >= 0 ? ordered[lastSuccess]!.at : null,
      failures: after.length,
      firstFailureAt: after[0]?.at ?? null,
      lastFailureAt: failed.at(-1)?.at ?? null
    }
  })
}

export type HealthState = "healthy" | "failing" | "paused" | "disabled"

/** What GET …/webhooks shows of an endpoint's state. */
export const healthState = (s: {
  readonly isActive: boolean
  readonly pausedUntil: Date | null
  readonly consecutiveFailures: number
}): HealthState =>
  !s.isActive ? "disabled" : s.pausedUntil !== null ? "paused" : s.consecutiveFailures > 0 ? "failing" : "healthy"
