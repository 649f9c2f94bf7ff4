import type { Lane } from "../../services/DeliveryStore.ts"

/**
 * The claims this instance holds, from claim until their outcome is on record:
 * what the lease keeper renews, what shutdown releases, and what bounds new
 * claims (a lane claims only for room left). Because a claim stays held until
 * its result is written, results waiting out a database outage keep the lanes
 * full, so nothing new is claimed meanwhile: the buffer is bounded by design.
 */
export class Holdings {
  private readonly held = new Map<string, { readonly lane: Lane; readonly bytes: number }>()
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
    this.count[entry.lane]--
    this.bytesByLane[entry.lane] -= entry.bytes
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
