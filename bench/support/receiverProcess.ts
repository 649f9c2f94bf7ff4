/**
 * The webhook receiver of the benchmarks (bench/webhooks, bench/peers), run as
 * a separate process (forked with `--import tsx` by ./receiver.ts) so it does not
 * share an event loop with what it measures.
 *
 * Listens on 127.0.0.1:0 (keep-alive), answers 200 at once, and records per
 * request the receive time and, when present, the `X-SS3-Delivery` header and
 * the `data.sentAt` of the event envelope (the publisher's timestamp).
 *
 * IPC (parent → child): {type: "reset"} | {type: "stats"} | {type: "take"}.
 * IPC (child → parent): {type: "ready", port} | {type: "stats", count, first, last} | {type: "records", records}.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

/** Wall-clock milliseconds with sub-millisecond precision (comparable across processes on one machine). */
const wallNow = () => performance.timeOrigin + performance.now()

/** [deliveryId, sentAt (ms, NaN when absent), receivedAt (ms)] */
type ReceiveRecord = [string, number, number]

let records: Array<ReceiveRecord> = []
let count = 0
let first = 0
let last = 0

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const receivedAt = wallNow()
  const chunks: Array<Buffer> = []
  req.on("data", (chunk: Buffer) => chunks.push(chunk))
  req.on("end", () => {
    count++
    if (first === 0) first = receivedAt
    last = receivedAt
    const delivery = req.headers["x-ss3-delivery"]
    if (typeof delivery === "string") {
      let sentAt = Number.NaN
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data?: { sentAt?: unknown } }
        sentAt = Number(body.data?.sentAt)
      } catch {
        // not an envelope: no latency for this one
      }
      records.push([delivery, sentAt, receivedAt])
    }
    res.writeHead(200, { "content-type": "text/plain", "content-length": "2" })
    res.end("ok")
  })
})

const send = (message: unknown) => {
  if (process.send) process.send(message)
}

process.on("message", (message: { type?: string }) => {
  switch (message.type) {
    case "reset":
      records = []
      count = 0
      first = 0
      last = 0
      send({ type: "reset" })
      break
    case "stats":
      send({ type: "stats", count, first, last })
      break
    case "take": {
      const taken = records
      records = []
      send({ type: "records", records: taken })
      break
    }
  }
})

// The parent going away (even killed) ends the receiver too. A Ctrl-C reaches the
// whole process group: the parent decides when the receiver stops (SIGTERM).
process.on("disconnect", () => process.exit(0))
process.on("SIGINT", () => {})

server.listen(0, "127.0.0.1", () => {
  send({ type: "ready", port: (server.address() as AddressInfo).port })
})
