/**
 * The receiver's ceiling, in a process of its own like the workers: plain POSTs
 * of the same body at the same concurrency, no queue, no signing. "start" on
 * queue `ceiling-<concurrency>` runs `requests` of them and answers with a "result".
 */
import { plainPosts } from "../../support/ceiling.ts"
import { send, serveWorker } from "./protocol.ts"

void serveWorker(async (settings) => {
  const { url, body: text, requests } = settings.system as { url: string; body: string; requests: number }
  const body = new TextEncoder().encode(text)
  return {
    // Answers "started" at once; the result follows when the requests are done.
    start: async (queue) => {
      const concurrency = Number(/(\d+)$/.exec(queue)?.[1] ?? 64)
      void plainPosts({
        url,
        body,
        headers: { "x-ss3-event": "bench.ceiling", "x-ss3-signature": `sha256=${"0".repeat(64)}` },
        concurrency,
        // A warm-up round (queue `warmup-<n>`) is a tenth as long.
        requests: queue.startsWith("warmup") ? Math.ceil(requests / 10) : requests
      }).then((result) => send({ type: "result", queue, result }))
    },
    stop: async () => {},
    close: async () => {}
  }
})
