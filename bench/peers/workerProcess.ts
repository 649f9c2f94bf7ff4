/**
 * A worker process seen from the bench: forked with `--import tsx`, its output on
 * our stderr, told to start and stop queues over IPC, ended by its scope's (or the run's) cleanup.
 */
import { fork } from "node:child_process"
import { dirname, isAbsolute, join } from "node:path"
import { fileURLToPath } from "node:url"
import { type CleanupScope, registerIn, withTimeout } from "../support/run.ts"
import type { FromWorker, ToWorker, WorkerSettings } from "./workers/protocol.ts"

export interface WorkerProcess {
  readonly pid: number
  readonly start: (queue: string) => Promise<void>
  readonly stop: (queue: string) => Promise<void>
  /** The next "result" message (the ceiling's). */
  readonly result: <A>(timeoutMs: number) => Promise<A>
  /** Asks it to close and exit; kills it when it does not within 20 s. */
  readonly shutdown: () => Promise<void>
}

const here = dirname(fileURLToPath(import.meta.url))

export const startWorkerProcess = async (
  /** A file under ./workers, or an absolute path (the store floor's worker runs the service's code). */
  script: string,
  settings: WorkerSettings,
  scope?: CleanupScope
): Promise<WorkerProcess> => {
  const child = fork(isAbsolute(script) ? script : join(here, "workers", script), [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, BENCH_WORKER: JSON.stringify(settings) },
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const shutdown = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    if (child.connected) child.send({ type: "shutdown" } satisfies ToWorker)
    await withTimeout(`${script} exit`, 20_000, exited).catch(() => child.kill("SIGKILL"))
  }
  registerIn(scope)(`worker process ${script}`, shutdown)

  const waiting: Array<{ readonly want: (m: FromWorker) => boolean; readonly resolve: (m: FromWorker) => void; readonly reject: (e: Error) => void }> = []
  // A message that came before anyone asked for it (a fast ceiling's result).
  const unclaimed: Array<FromWorker> = []
  let gone: Error | undefined
  const fail = (e: Error) => {
    gone ??= e
    for (const w of waiting.splice(0)) w.reject(e)
  }
  child.on("message", (message: FromWorker) => {
    if (message.type === "failed") return fail(new Error(`${script} failed: ${message.message}`))
    const index = waiting.findIndex((w) => w.want(message))
    if (index >= 0) waiting.splice(index, 1)[0]!.resolve(message)
    else unclaimed.push(message)
  })
  child.on("error", (e) => fail(new Error(`${script}: ${e.message}`)))
  child.on("exit", (code, signal) => fail(new Error(`${script} exited (${signal ?? code})`)))

  const next = <M extends FromWorker>(want: (m: FromWorker) => boolean, what: string, timeoutMs: number, message?: ToWorker) =>
    withTimeout(`${script} ${what}`, timeoutMs, new Promise<M>((resolve, reject) => {
      if (gone) return reject(gone)
      const early = message === undefined ? unclaimed.findIndex(want) : -1
      if (early >= 0) return resolve(unclaimed.splice(early, 1)[0] as M)
      waiting.push({ want, resolve: resolve as (m: FromWorker) => void, reject })
      if (message) child.send(message, (e) => e && reject(e))
    }))

  await next((m) => m.type === "ready", "start-up", 120_000)
  return {
    pid: child.pid!,
    start: (queue) =>
      next((m) => m.type === "started" && m.queue === queue, `start ${queue}`, 60_000, { type: "start", queue }).then(() => undefined),
    stop: (queue) =>
      next((m) => m.type === "stopped" && m.queue === queue, `stop ${queue}`, 60_000, { type: "stop", queue }).then(() => undefined),
    result: <A>(timeoutMs: number) =>
      next<Extract<FromWorker, { type: "result" }>>((m) => m.type === "result", "result", timeoutMs).then((m) => m.result as A),
    shutdown
  }
}
