/**
 * The load generator of bench/validate.ts, run as a separate process (forked
 * with `--import tsx`) so it does not share the service's event loop.
 *
 * IPC (parent → child): a Phase. (child → parent): a PhaseResult.
 * Each phase: `concurrency` workers on one undici Pool (keep-alive, one
 * connection per worker) send GET `path` back to back for `warmupMs` (not
 * counted) then `seconds` (counted). Each request takes the next header set:
 * `rotate` (the same few over and over), `unique` (each used once, but after
 * a 503 sent again once its Retry-After has passed, as a well-behaved gateway
 * would; a worker stops when they run out) or `forged` (a fresh well-formed API key of nobody
 * each time, right checksum and all: what anyone can make, since the checksum
 * is public).
 */
import { Pool } from "undici"
import { credentialKeys, newClientId } from "../src/domain/credentials/keys.ts"
import { cryptoPrimitivesNode } from "../src/layers/CryptoPrimitivesNode.ts"

export type HeaderMode = "rotate" | "unique" | "forged"

const { newSecret } = credentialKeys(cryptoPrimitivesNode.crc32)
const forgedHeaders = () => ({ authorization: `Bearer ${newSecret("API_KEY", newClientId("API_KEY")).presented}` })

export interface Phase {
  readonly type: "phase"
  readonly name: string
  readonly origin: string
  readonly path: string
  readonly concurrency: number
  readonly warmupMs: number
  readonly seconds: number
  readonly headers: ReadonlyArray<Record<string, string>>
  readonly mode: HeaderMode
  /** Load running alongside, not counted (e.g. cold validations keeping bcrypt busy, a flood of forged keys). */
  readonly background?: {
    readonly concurrency: number
    readonly headers: ReadonlyArray<Record<string, string>>
    readonly mode: HeaderMode
  }
}

export interface PhaseResult {
  readonly type: "result"
  readonly name: string
  readonly requests: number
  readonly elapsedMs: number
  /** Latencies of the counted requests, milliseconds, sorted. Percentiles only: p50, p90, p99, p999, max. */
  readonly latency: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number }
  readonly statuses: Record<string, number>
  readonly errors: number
  readonly exhausted: boolean
  /** Answers of the background load, by status (uncounted in the rest). */
  readonly backgroundStatuses: Record<string, number>
  /** Every answer the phase got, warm-up and background included (what the service's CPU went on). */
  readonly answered: number
}

const percentile = (sorted: Float64Array, p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!

const runPhase = async (phase: Phase): Promise<PhaseResult> => {
  const pool = new Pool(phase.origin, {
    connections: phase.concurrency,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000
  })
  const latencies: Array<number> = []
  const statuses: Record<string, number> = {}
  let errors = 0
  let next = 0
  let exhausted = false

  const started = performance.now()
  const measureFrom = started + phase.warmupMs
  const until = measureFrom + phase.seconds * 1000

  const background = phase.background
  const backgroundPool = background &&
    new Pool(phase.origin, { connections: background.concurrency, pipelining: 1, keepAliveTimeout: 30_000 })
  let backgroundNext = 0
  const backgroundStatuses: Record<string, number> = {}
  let answered = 0

  const worker = (pool: Pool, counted: boolean) => async () => {
    const spec = counted ? phase : background!
    let retried: number | undefined
    while (true) {
      const now = performance.now()
      if (now >= until) return
      let headers: Record<string, string>
      const index = retried ?? (counted ? next++ : backgroundNext++)
      retried = undefined
      if (spec.mode === "forged") {
        headers = forgedHeaders()
      } else if (spec.mode === "unique") {
        if (index >= spec.headers.length) {
          exhausted = true
          return
        }
        headers = spec.headers[index]!
      } else {
        headers = spec.headers[index % spec.headers.length]!
      }
      const t = performance.now()
      try {
        const response = await pool.request({ path: phase.path, method: "GET", headers })
        await response.body.dump()
        const done = performance.now()
        answered++
        // Shed with 503: this client waits the Retry-After it was given, then sends the same again.
        if (response.statusCode === 503 && spec.mode === "unique") {
          retried = index
          const wait = Number(response.headers["retry-after"] ?? 1) * 1000
          await new Promise((resolve) => setTimeout(resolve, Math.min(wait, Math.max(0, until - performance.now()))))
        }
        if (counted && t >= measureFrom && done <= until) {
          latencies.push(done - t)
          statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1
        } else if (!counted && t >= measureFrom) {
          backgroundStatuses[response.statusCode] = (backgroundStatuses[response.statusCode] ?? 0) + 1
        }
      } catch {
        if (counted && t >= measureFrom) errors++
      }
    }
  }
  await Promise.all([
    ...Array.from({ length: phase.concurrency }, worker(pool, true)),
    ...(backgroundPool ? Array.from({ length: background.concurrency }, worker(backgroundPool, false)) : [])
  ])
  const ended = Math.min(performance.now(), until)
  await pool.close()
  await backgroundPool?.close()

  const sorted = Float64Array.from(latencies).sort()
  return {
    type: "result",
    name: phase.name,
    requests: sorted.length,
    elapsedMs: Math.max(1, ended - measureFrom),
    latency: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN
    },
    statuses,
    errors,
    exhausted,
    backgroundStatuses,
    answered
  }
}

process.on("message", (message: Phase) => {
  if (message?.type !== "phase") return
  runPhase(message).then(
    (result) => process.send!(result),
    (error: unknown) => process.send!({ type: "error", message: error instanceof Error ? error.stack ?? error.message : String(error) })
  )
})
process.send!({ type: "ready" })
// Exit with the parent.
process.on("disconnect", () => process.exit(0))
