import type { DeliveryStoreShape } from "../../services/DeliveryStore.ts"
import type { DeliveryLane } from "./DeliveryLane.ts"
import type { DatabaseHealth } from "./health.ts"
import type { Holdings } from "./holdings.ts"
import type { DeliveryTimingsShape } from "./timings.ts"

/** What the engine's loops of one instance share (made once by DeliveryEngine). */
export interface EngineDeps {
  readonly store: DeliveryStoreShape
  readonly lanes: ReadonlyArray<DeliveryLane>
  /** The claims this instance holds. */
  readonly holdings: Holdings
  /** This instance, as the holder of its leases. */
  readonly owner: string
  readonly timings: DeliveryTimingsShape
  readonly health: DatabaseHealth
}
