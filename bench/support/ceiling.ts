/**
 * The receiver's ceiling: plain undici POSTs of a body of the same size, as many
 * at once as the system under test runs, for a time or a number of requests —
 * what the receiver and the loopback network manage when nothing else is done.
 */
import { Agent, request as undiciRequest } from "undici"
import { type Distribution, distribution } from "./report.ts"

export interface PlainPosts {
  readonly url: string
  readonly body: Uint8Array
  readonly headers: Record<string, string>
  readonly concurrency: number
  /** Stop after this long… */
  readonly seconds?: number
  /** …or after this many requests (whichever comes first). */
  readonly requests?: number
}

export interface PlainPostsResult {
  readonly requests: number
  readonly errors: number
  readonly seconds: number
  readonly rate: number
  readonly latency: Distribution
}

export const plainPosts = async (options: PlainPosts): Promise<PlainPostsResult> => {
  const agent = new Agent({ keepAliveTimeout: 4_000 })
  const latencies: Array<number> = []
  let errors = 0
  let started = 0
  const limit = options.requests ?? Number.POSITIVE_INFINITY
  const start = performance.now()
  const deadline = start + (options.seconds ?? Number.POSITIVE_INFINITY) * 1000
  const loop = async () => {
    while (performance.now() < deadline && started < limit) {
      started++
      const t = performance.now()
      try {
        const res = await undiciRequest(options.url, {
          dispatcher: agent,
          method: "POST",
          headers: { "content-type": "application/json", ...options.headers },
          body: options.body
        })
        await res.body.text()
        if (res.statusCode >= 200 && res.statusCode < 300) latencies.push(performance.now() - t)
        else errors++
      } catch {
        errors++
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, loop))
  const seconds = (performance.now() - start) / 1000
  await agent.close()
  return { requests: latencies.length, errors, seconds, rate: latencies.length / seconds, latency: distribution(latencies) }
}
