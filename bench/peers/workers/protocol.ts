/**
 * How the bench talks to a worker process (bench/peers/workers/*.ts, forked with
 * `--import tsx`): its settings in the environment variable BENCH_WORKER as JSON,
 * then messages over IPC. A worker that loses its parent exits.
 *
 *   parent → worker   {type: "start", queue}   start consuming that queue (scenario)
 *                     {type: "stop", queue}    stop consuming it
 *                     {type: "shutdown"}       close everything and exit
 *   worker → parent   {type: "ready"} | {type: "started", queue} | {type: "stopped", queue}
 *                     {type: "result", queue, result} (what a start measured, the ceiling's)
 *                     {type: "failed", message} (then it exits 1)
 */
export type ToWorker =
  | { readonly type: "start"; readonly queue: string }
  | { readonly type: "stop"; readonly queue: string }
  | { readonly type: "shutdown" }

export type FromWorker =
  | { readonly type: "ready" }
  | { readonly type: "started"; readonly queue: string }
  | { readonly type: "stopped"; readonly queue: string }
  | { readonly type: "failed"; readonly message: string }
  | { readonly type: "result"; readonly queue: string; readonly result: unknown }

export interface WorkerSettings {
  /** Signing secret per subscription id. */
  readonly secrets: Record<string, string>
  readonly timeoutMs: number
  /** Every queue (scenario) the run will use, for workers that must know their tasks up front. */
  readonly queues: ReadonlyArray<string>
  /** What the system itself needs: a connection string, its concurrency, … */
  readonly system: Record<string, unknown>
}

export const workerSettings = (): WorkerSettings => {
  const raw = process.env["BENCH_WORKER"]
  if (raw === undefined) throw new Error("BENCH_WORKER is not set: this script is started by bench/peers/main.ts")
  return JSON.parse(raw) as WorkerSettings
}

export const send = (message: FromWorker) => {
  if (process.send) process.send(message)
}

/**
 * Runs a worker process: `setup` connects and returns how to start and stop
 * consuming one queue, and how to close. Failures are reported, then it exits.
 */
export const serveWorker = async (setup: (settings: WorkerSettings) => Promise<{
  readonly start: (queue: string) => Promise<void>
  readonly stop: (queue: string) => Promise<void>
  readonly close: () => Promise<void>
}>) => {
  const fail = (e: unknown) => {
    send({ type: "failed", message: e instanceof Error ? e.stack ?? e.message : String(e) })
    process.exit(1)
  }
  process.on("uncaughtException", fail)
  process.on("unhandledRejection", fail)
  // Ctrl-C reaches the whole process group: the parent decides when a worker stops.
  process.on("SIGINT", () => {})
  process.on("disconnect", () => process.exit(0))
  try {
    const worker = await setup(workerSettings())
    process.on("message", (message: ToWorker) => {
      const reply = async () => {
        switch (message.type) {
          case "start":
            await worker.start(message.queue)
            return send({ type: "started", queue: message.queue })
          case "stop":
            await worker.stop(message.queue)
            return send({ type: "stopped", queue: message.queue })
          case "shutdown":
            await worker.close()
            return process.exit(0)
        }
      }
      reply().catch(fail)
    })
    send({ type: "ready" })
  } catch (e) {
    fail(e)
  }
}
