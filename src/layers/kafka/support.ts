import { Effect, Runtime } from "effect"
import { type IHeaders, type KafkaMessage, type LogEntry, logLevel, type Message } from "kafkajs"
import type { IncomingMessage, OutgoingMessage } from "../../services/Kafka.ts"

/** What KafkaLive's producer and consumer members share: conversions, error reading, in-flight tracking. */

export const errorText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))

/** Broker answers to a produce request that no retry can change (the messages themselves are refused). */
const permanentErrorTypes = new Set([
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "CORRUPT_MESSAGE",
  "INVALID_TOPIC_EXCEPTION"
])

/** kafkajs wraps the broker's error (KafkaJSProtocolError, with its `type`) in retry and non-retriable errors. */
export const isPermanentPublishError = (e: unknown): boolean => {
  let current: unknown = e
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const { type, cause, originalError } = current as { type?: unknown; cause?: unknown; originalError?: unknown }
    if (typeof type === "string" && permanentErrorTypes.has(type)) return true
    current = cause ?? originalError
  }
  return false
}

/** Connects on first use; a failed connect is attempted again next time. */
export const lazily = (connect: () => Promise<void>) => {
  let pending: Promise<void> | undefined
  return {
    get: () =>
      (pending ??= connect().catch((e: unknown) => {
        pending = undefined
        throw e
      })),
    started: () => pending !== undefined
  }
}

export const kafkaJsLogger = (runtime: Runtime.Runtime<never>) => () => (entry: LogEntry) => {
  const { message, timestamp: _timestamp, logger: _logger, stack: _stack, ...extra } = entry.log
  const log =
    entry.level === logLevel.ERROR ? Effect.logError : entry.level === logLevel.WARN ? Effect.logWarning : Effect.logDebug
  Runtime.runFork(runtime)(log(String(message)).pipe(Effect.annotateLogs({ kafkajs: entry.namespace, ...extra })))
}

export const toKafkaMessage = (m: OutgoingMessage): Message => ({
  key: m.key,
  value: m.value,
  ...(m.headers ? { headers: { ...m.headers } } : {})
})

const decodeHeaders = (headers: IHeaders | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    // Kafka allows repeated header names; like Java's lastHeader, the last one wins.
    const last = Array.isArray(value) ? value[value.length - 1] : value
    if (last !== undefined) out[name] = typeof last === "string" ? last : last.toString("utf8")
  }
  return out
}

export const toIncoming = ({ message, partition, topic }: {
  readonly message: KafkaMessage
  readonly partition: number
  readonly topic: string
}): IncomingMessage => ({
  topic,
  partition,
  offset: message.offset,
  key: message.key == null ? null : message.key.toString("utf8"),
  value: message.value,
  headers: decodeHeaders(message.headers),
  timestamp: message.timestamp
})

export const sameTopics = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && a.every((t, i) => t === b[i])

/** How the member hands messages over: one by one, or a partition's batch at a time. */
export type Mode<E, R> =
  | { readonly _tag: "Messages"; readonly handler: (message: IncomingMessage) => Effect.Effect<void, E, R> }
  | {
    readonly _tag: "Batches"
    readonly handler: (messages: ReadonlyArray<IncomingMessage>) => Effect.Effect<void, E, R>
    readonly maxBatchSize: number
  }

/** Tracks eachMessage calls in progress so a stop can wait for them before kafkajs stops committing. */
export class InFlight {
  stopping = false
  private active = 0
  private waiters: Array<() => void> = []
  enter() {
    this.active++
  }
  leave() {
    if (--this.active === 0) for (const wake of this.waiters.splice(0)) wake()
  }
  drained(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve))
  }
}
