/** The receiver process (./receiverProcess.ts) seen from the benchmark: start it, reset, count, take its records. */
import { fork, type ChildProcess } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { onCleanup, withTimeout } from "./run.ts"

/** [deliveryId, sentAt (ms, NaN when the body has no data.sentAt), receivedAt (ms)] */
export type ReceiveRecord = [string, number, number]

export interface Receiver {
  readonly url: string
  readonly pid: number
  readonly reset: () => Promise<void>
  /** Requests since the last reset (with or without an X-SS3-Delivery header), first and last receive time. */
  readonly stats: () => Promise<{ count: number; first: number; last: number }>
  /** [deliveryId, sentAt, receivedAt] of every delivery since the last take/reset. */
  readonly take: () => Promise<Array<ReceiveRecord>>
}

export const startReceiver = async (): Promise<Receiver> => {
  const script = join(dirname(fileURLToPath(import.meta.url)), "receiverProcess.ts")
  const child: ChildProcess = fork(script, [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  onCleanup("receiver process", async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
    child.kill("SIGTERM")
    await withTimeout("receiver exit", 5000, exited).catch(() => child.kill("SIGKILL"))
  })
  const waiting = new Map<string, Array<{ resolve: (message: any) => void; reject: (e: Error) => void }>>()
  let gone: Error | undefined
  const fail = (e: Error) => {
    gone ??= e
    for (const queue of waiting.values()) for (const w of queue.splice(0)) w.reject(e)
  }
  child.on("message", (message: { type: string }) => waiting.get(message.type)?.shift()?.resolve(message))
  child.on("error", (e) => fail(new Error(`receiver process: ${e.message}`)))
  child.on("exit", (code, signal) => fail(new Error(`the receiver process exited (${signal ?? code})`)))
  const ask = <A>(type: string, reply: string): Promise<A> =>
    withTimeout(`receiver ${type}`, 30_000, new Promise<A>((resolve, reject) => {
      if (gone) return reject(gone)
      const queue = waiting.get(reply) ?? []
      queue.push({ resolve, reject })
      waiting.set(reply, queue)
      if (type !== "") child.send({ type }, (e) => e && reject(e))
    }))
  const ready = await ask<{ port: number }>("", "ready")
  return {
    url: `http://127.0.0.1:${ready.port}`,
    pid: child.pid!,
    reset: () => ask("reset", "reset").then(() => undefined),
    stats: () => ask("stats", "stats"),
    take: () => ask<{ records: Array<ReceiveRecord> }>("take", "records").then((m) => m.records)
  }
}
