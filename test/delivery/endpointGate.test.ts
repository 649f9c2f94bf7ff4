/**
 * The lane's per-subscription gate (claiming ahead): at most maxInFlight of a
 * subscription's deliveries start at once; the rest wait and take the place of
 * one that ends, in order; connector runs are not gated.
 */
import { describe, expect, it } from "@effect/vitest"
import { EndpointGate } from "../../src/programs/delivery/endpointGate.ts"
import type { ClaimedDelivery } from "../../src/services/DeliveryStore.ts"

const delivery = (id: string, subscriptionId: string | null, maxInFlight: number | null): ClaimedDelivery => ({
  delivery_id: id,
  lane: subscriptionId === null ? "connector" : "webhook",
  subscription_id: subscriptionId,
  config_id: subscriptionId === null ? "c" : null,
  store_id: "s",
  event_type: "order.placed",
  attempt_number: 0,
  cycle_attempts: 0,
  replay: false,
  occurred_at: null,
  body: "{}",
  target_url: null,
  secret_version: null,
  previous_secret_active: false,
  probe: false,
  payload_bytes: 2,
  max_in_flight: maxInFlight
})

describe("EndpointGate", () => {
  it("starts at most maxInFlight per subscription; an ended one's place goes to the next waiting, in order", () => {
    const gate = new EndpointGate()
    const [a1, a2, a3, a4] = ["a1", "a2", "a3", "a4"].map((id) => delivery(id, "A", 2))
    const b1 = delivery("b1", "B", 1)
    expect([a1, a2, a3, a4, b1].map((d) => gate.enter(d!))).toEqual([true, true, false, false, true])
    expect(gate.next(a1!)?.delivery_id).toBe("a3")
    expect(gate.next(a3!)?.delivery_id).toBe("a4")
    expect(gate.next(a2!)).toBeUndefined()
    expect(gate.next(a4!)).toBeUndefined()
    // Both of A's places are free again.
    expect(gate.enter(delivery("a5", "A", 2))).toBe(true)
    expect(gate.enter(delivery("a6", "A", 2))).toBe(true)
    expect(gate.enter(delivery("b2", "B", 1))).toBe(false)
  })

  it("gives back one subscription's waiting deliveries, or all of them; connector runs always start", () => {
    const gate = new EndpointGate()
    for (const id of ["a1", "a2", "a3"]) gate.enter(delivery(id, "A", 1))
    for (const id of ["b1", "b2"]) gate.enter(delivery(id, "B", 1))
    expect(gate.takeWaitingOf(delivery("a1", "A", 1)).map((d) => d.delivery_id)).toEqual(["a2", "a3"])
    expect(gate.next(delivery("a1", "A", 1))).toBeUndefined()
    expect(gate.takeWaiting().map((d) => d.delivery_id)).toEqual(["b2"])
    expect(Array.from({ length: 5 }, (_, i) => gate.enter(delivery(`r${i}`, null, null)))).toEqual([true, true, true, true, true])
  })
})
