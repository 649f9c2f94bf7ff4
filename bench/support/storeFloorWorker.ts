/**
 * The store floor's worker process, started by bench:peers (../peers/storeFloor.ts)
 * like the peers' workers: "start" writes one burst through the service's delivery
 * store (./storeFloor.ts) and answers with a "result". It lives here, not among the
 * peers' workers, because it runs the service's code, typechecked with the service's.
 */
import { send, serveWorker } from "../peers/workers/protocol.ts"
import { openStoreFloor } from "./storeFloor.ts"
import type { StoreFloorSettings } from "./storeFloorShape.ts"

void serveWorker(async (settings) => {
  const floor = await openStoreFloor(settings.system as unknown as StoreFloorSettings)
  return {
    // Answers "started" at once; the result follows when the burst is written.
    start: async (queue) => {
      void floor.run().then(
        (result) => send({ type: "result", queue, result }),
        (e: unknown) => send({ type: "failed", message: e instanceof Error ? e.message : String(e) })
      )
    },
    stop: async () => {},
    close: () => floor.close()
  }
})
