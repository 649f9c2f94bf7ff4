import { Context, Data, type Effect, type Scope } from "effect"

export class KafkaError extends Data.TaggedError("KafkaError")<{
  readonly operation: "connect" | "publish" | "consume" | "admin"
  readonly reason: string
  /** The broker refused the messages themselves (too large, invalid): sending them again cannot succeed. */
  readonly permanent?: boolean
}> {
  override get message() {
    return `kafka ${this.operation} failed: ${this.reason}`
  }
}

export interface OutgoingMessage {
  readonly key: string | null
  readonly value: string
  readonly headers?: Readonly<Record<string, string>>
}

export interface IncomingMessage {
  readonly topic: string
  readonly partition: number
  /** Kafka offsets are 64-bit: kept as the decimal string the client gives. */
  readonly offset: string
  readonly key: string | null
  readonly value: Uint8Array | null
  readonly headers: Readonly<Record<string, string>>
  readonly timestamp: string
}

export interface ConsumeOptions {
  readonly groupId: string
  /** Topics whose name matches are consumed, including ones created later (picked up within a minute). */
  readonly topics: RegExp
  /** Where a group with no committed offset starts. Default: earliest. */
  readonly fromBeginning?: boolean
  /** Partitions handled at once (one message at a time per partition). Default 1. */
  readonly partitionsConsumedConcurrently?: number
}

export interface KafkaShape {
  readonly publish: (topic: string, messages: ReadonlyArray<OutgoingMessage>) => Effect.Effect<void, KafkaError>
  /**
   * Runs a consumer group member until the scope closes. Each message is handed
   * to `handler`; its offset is committed only after the handler succeeded. A
   * failing handler is retried on the same message (with backoff) and the offset
   * stays uncommitted, so the message comes again even after a restart.
   * Closing the scope stops fetching, lets the in-flight handler finish and disconnects.
   */
  readonly consume: <E, R>(
    options: ConsumeOptions,
    handler: (message: IncomingMessage) => Effect.Effect<void, E, R>
  ) => Effect.Effect<void, KafkaError, R | Scope.Scope>
  /**
   * As `consume`, but the handler gets the messages of one partition in
   * batches (in offset order, up to `maxBatchSize`); the batch's offsets are
   * committed only after the handler succeeded, and a failed batch comes
   * again from its first message. For handlers that can take many messages in
   * one database round trip. They must be idempotent: a batch may come again.
   */
  readonly consumeBatches: <E, R>(
    options: ConsumeOptions & { readonly maxBatchSize?: number },
    handler: (messages: ReadonlyArray<IncomingMessage>) => Effect.Effect<void, E, R>
  ) => Effect.Effect<void, KafkaError, R | Scope.Scope>
  /** Succeeds when the cluster answers (readiness). */
  readonly ping: Effect.Effect<void, KafkaError>
}

export class Kafka extends Context.Tag("integration-service/Kafka")<Kafka, KafkaShape>() {}
