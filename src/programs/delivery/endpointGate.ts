import type { ClaimedDelivery } from "../../services/DeliveryStore.ts"

/**
 * Requests open per webhook subscription in this instance, and the claimed
 * deliveries waiting for one of them to end (claimed ahead, see ClaimAhead). A
 * delivery starts only while its subscription has fewer than its maxInFlight
 * requests open; when one ends, the next waiting delivery of the same
 * subscription starts in its place, with no claim in between. Connector runs
 * (no subscription) always start.
 */
export class EndpointGate {
  private readonly open = new Map<string, number>()
  private readonly waiting = new Map<string, Array<ClaimedDelivery>>()

  /** True: it starts now (counted open). False: it waits for one of its subscription's requests to end. */
  enter(delivery: ClaimedDelivery): boolean {
    const id = delivery.subscription_id
    if (id === null || delivery.max_in_flight === null) return true
    const open = this.open.get(id) ?? 0
    if (open < delivery.max_in_flight) {
      this.open.set(id, open + 1)
      return true
    }
    const queue = this.waiting.get(id)
    if (queue === undefined) this.waiting.set(id, [delivery])
    else queue.push(delivery)
    return false
  }

  /** This delivery's request ended: the next waiting delivery of its subscription (taking its place), if any. */
  next(delivery: ClaimedDelivery): ClaimedDelivery | undefined {
    const id = delivery.subscription_id
    if (id === null || delivery.max_in_flight === null) return undefined
    const queue = this.waiting.get(id)
    const following = queue?.shift()
    if (queue !== undefined && queue.length === 0) this.waiting.delete(id)
    if (following !== undefined) return following
    const open = (this.open.get(id) ?? 1) - 1
    if (open > 0) this.open.set(id, open)
    else this.open.delete(id)
    return undefined
  }

  /** The deliveries of this one's subscription waiting, taken out. */
  takeWaitingOf(delivery: ClaimedDelivery): ReadonlyArray<ClaimedDelivery> {
    const id = delivery.subscription_id
    if (id === null) return []
    const queue = this.waiting.get(id) ?? []
    this.waiting.delete(id)
    return queue
  }

  /** Every waiting delivery, taken out (shutdown releases their claims). */
  takeWaiting(): ReadonlyArray<ClaimedDelivery> {
    const all = Array.from(this.waiting.values()).flat()
    this.waiting.clear()
    return all
  }
}
