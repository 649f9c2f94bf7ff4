/** What the bench needs from each system under test, and the peers' shared pieces. */
import { randomBytes } from "node:crypto"
import type { Envelope, Scenario } from "../scenarios.ts"
import type { DeliveryJob } from "../workers/deliver.ts"

/** A scenario's deliveries as the system's own store counts them. */
export interface StoreCounts {
  /** Succeeded; undefined when the store keeps no record of success (graphile-worker deletes done jobs). */
  readonly delivered: number | undefined
  /** Not done yet: waiting, running, or failed and due for a retry (for the service also events not yet consumed). */
  readonly pending: number
  /** Given up (attempts exhausted, dead-lettered). */
  readonly failed: number
  /** The store's own words, for the report. */
  readonly detail: string
}

export interface SystemUnderTest {
  /** Name and version. */
  readonly name: string
  /** How it is configured. */
  readonly config: string
  /** The worker process (RSS and CPU of the table). */
  readonly workerPid: number
  /** The processes that are its store (PostgreSQL backends of its database, Redis, the Kafka broker). */
  readonly isStore: (pid: number, comm: string) => boolean
  readonly supports: (scenario: Scenario) => boolean
  /** Before producing: the worker consumes the scenario's queue (the service: its subscriptions exist). */
  readonly begin: (scenario: Scenario) => Promise<void>
  /** Produces events: on Kafka for the service, one job per (event, subscription) for a peer. */
  readonly produce: (scenario: Scenario, events: ReadonlyArray<Envelope>) => Promise<void>
  readonly counts: (scenario: Scenario) => Promise<StoreCounts>
  /** Which receipts are this scenario's (by X-SS3-Delivery). */
  readonly owns: (scenario: Scenario) => Promise<(deliveryId: string) => boolean>
  /** Where the time went, from the system's own records (the service: its delivery rows), when it keeps any. */
  readonly breakdown?: (scenario: Scenario) => Promise<string>
  readonly end: (scenario: Scenario) => Promise<void>
  /** Stops the worker, drops the system's database or keys. */
  readonly close: () => Promise<void>
}

/** Subscription ids `sub-1` … `sub-<n>` with a signing secret each (what Vault holds for the service). */
export const peerSecrets = (n: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`sub-${i + 1}`, `whsec_${randomBytes(24).toString("base64")}`]))

/** The jobs an application enqueues for some events: one per matching subscription. */
export const peerJobs = (receiverUrl: string, scenario: Scenario, events: ReadonlyArray<Envelope>): Array<DeliveryJob> =>
  events.flatMap((event) =>
    Array.from({ length: scenario.fanout }, (_, i): DeliveryJob => ({
      deliveryId: `${scenario.key}:${event.data.seq}:${i + 1}`,
      subscriptionId: `sub-${i + 1}`,
      url: `${receiverUrl}/hooks/${event.storeId}/${i + 1}`,
      event
    })))

/** Receipts of a peer's scenario carry its key as the prefix of their delivery id. */
export const ownsByPrefix = (scenario: Scenario) => Promise.resolve((id: string) => id.startsWith(`${scenario.key}:`))

/** Rows of `state, count` into counts of one shape (for the report's detail column). */
export const describe = (counts: Record<string, number>) =>
  Object.entries(counts).filter(([, n]) => n > 0).map(([state, n]) => `${state} ${n}`).join(", ") || "empty"
