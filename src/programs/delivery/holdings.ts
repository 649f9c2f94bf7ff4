import type { Lane } from "../../services/DeliveryStore.ts"

/**
 * The claims this instance holds, from claim until their outcome is on record:
 * what the lease keeper renews, what shutdown releases, and what bounds new
 * claims (a lane claims only for room left). Because a claim stays held until
 * its result is written, results waiting out a database outage keep the lanes
 * full, so nothing new is claimed meanwhile: the buffer is bounded by design.
 * A held claim whose attempt is done (its outcome waits to be recorded) is
 * marked finished: its lease is still held, but its subscription's connection
 * is free, so claims may use that room again (see ClaimOptions.finished).
 */
export class Holdings {
  private readonly held = new Map<string, { readonly lane: Lane; readonly bytes: number; finishedFor?: string | undefined; recording?: boolean }>()
  private readonly finishedBySubscription = new Map<string, number>()
  private readonly count: Record<Lane, number> = { webhook: 0, connector: 0 }
  private readonly bytesByLane: Record<Lane, number> = { webhook: 0, connector: 0 }

  add(lane: Lane, id: string, bytes: number) {
    if (this.held.has(id)) return
    this.held.set(id, { lane, bytes })
    this.count[lane]++
    this.bytesByLane[lane] += bytes
  }

  remove(id: string) {
    const entry = this.held.get(id)
    if (entry === undefined) return
    this.held.delete(id)
    if (entry.finishedFor !== undefined) this.unfinish(entry.finishedFor)
    this.count[entry.lane]--
    this.bytesByLane[entry.lane] -= entry.bytes
  }

  /** The attempt of this claim is done; for a webhook, its subscription's connection is free again. */
  finish(id: string, subscriptionId: string | null) {
    const entry = this.held.get(id)
    if (entry === undefined || entry.finishedFor !== undefined || entry.recording || subscriptionId === null) return
    entry.finishedFor = subscriptionId
    this.finishedBySubscription.set(subscriptionId, (this.finishedBySubscription.get(subscriptionId) ?? 0) + 1)
  }

  /**
   * The outcome of this claim is being written: its room is no longer offered
   * again, since once the write commits the subscription's own count has it
   * back (offered both ways at once, a claim could take the same room twice).
   */
  recording(id: string) {
    const entry = this.held.get(id)
    if (entry === undefined || entry.finishedFor === undefined) return
    this.unfinish(entry.finishedFor)
    entry.finishedFor = undefined
    entry.recording = true
  }

  private unfinish(subscriptionId: string) {
    const n = (this.finishedBySubscription.get(subscriptionId) ?? 0) - 1
    if (n <= 0) this.finishedBySubscription.delete(subscriptionId)
    else this.finishedBySubscription.set(subscriptionId, n)
  }

  /** Per subscription, the claims held whose attempts are done, waiting to be recorded. */
  finished(): ReadonlyArray<{ readonly subscriptionId: string; readonly count: number }> {
    return Array.from(this.finishedBySubscription, ([subscriptionId, count]) => ({ subscriptionId, count }))
  }

  size(lane: Lane) {
    return this.count[lane]
  }

  bytes() {
    return this.bytesByLane.webhook + this.bytesByLane.connector
  }

  ids(lane: Lane): ReadonlyArray<string> {
    const out: Array<string> = []
    for (const [id, entry] of this.held) if (entry.lane === lane) out.push(id)
    return out
  }
}
