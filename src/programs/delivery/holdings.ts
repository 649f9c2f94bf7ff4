import type { ClaimAhead, Lane } from "../../services/DeliveryStore.ts"

/**
 * The claims this instance holds, from claim until their outcome is on record:
 * what the lease keeper renews, what shutdown releases, and what bounds new
 * claims (a lane claims only for room left). Because a claim stays held until
 * its result is written, results waiting out a database outage keep the lanes
 * full, so nothing new is claimed meanwhile: the buffer is bounded by design.
 * A held webhook claim whose attempt is done (its outcome waits to be
 * recorded) is marked finished: its lease is still held, but its
 * subscription's connection is free, so claims may use that room again (see
 * ClaimOptions.finished).
 */
export class Holdings {
  private readonly held = new Map<string, { readonly lane: Lane; readonly bytes: number; readonly subscriptionId: string | null }>()
  private readonly bySubscription = new Map<string, number>()
  private readonly finishedIds = new Set<string>()
  private readonly count: Record<Lane, number> = { webhook: 0, connector: 0 }
  private readonly bytesByLane: Record<Lane, number> = { webhook: 0, connector: 0 }

  add(lane: Lane, id: string, bytes: number, subscriptionId: string | null = null) {
    if (this.held.has(id)) return
    this.held.set(id, { lane, bytes, subscriptionId })
    if (subscriptionId !== null) this.bySubscription.set(subscriptionId, (this.bySubscription.get(subscriptionId) ?? 0) + 1)
    this.count[lane]++
    this.bytesByLane[lane] += bytes
  }

  remove(id: string) {
    const entry = this.held.get(id)
    if (entry === undefined) return
    this.held.delete(id)
    this.finishedIds.delete(id)
    if (entry.subscriptionId !== null) {
      const left = (this.bySubscription.get(entry.subscriptionId) ?? 1) - 1
      if (left > 0) this.bySubscription.set(entry.subscriptionId, left)
      else this.bySubscription.delete(entry.subscriptionId)
    }
    this.count[entry.lane]--
    this.bytesByLane[entry.lane] -= entry.bytes
  }

  /** The attempt of this claim is done; for a webhook, its subscription's connection is free again. */
  finish(id: string, subscriptionId: string | null) {
    if (subscriptionId !== null && this.held.has(id)) this.finishedIds.add(id)
  }

  /** The webhook claims held whose attempts are done, waiting to be recorded. */
  finished(): ReadonlyArray<string> {
    return Array.from(this.finishedIds)
  }

  /** Per webhook subscription, the leases held (what a claim ahead compares with its count, see ClaimAhead). */
  heldBySubscription(): ClaimAhead {
    return { subscriptionIds: Array.from(this.bySubscription.keys()), held: Array.from(this.bySubscription.values()) }
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
