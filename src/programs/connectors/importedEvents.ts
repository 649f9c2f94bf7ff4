import { Effect, Either, ParseResult, Schema } from "effect"
import type { ImportedOrder } from "../../domain/connectors/events.ts"
import { ConnectorOrderImportedJson } from "../../domain/connectors/importedEvent.ts"
import { importedTopic } from "../../domain/connectors/models.ts"
import { sha256Hex } from "../credentials/digest.ts"
import { storableJson, storableText, utf8Length } from "../../domain/storable.ts"

/**
 * The `connector.order.imported` messages of a poll page: the SPEC envelope
 * around each record, every value storable and bounded. Consumers keep these
 * in jsonb, so text that jsonb cannot hold (NUL, lone surrogates) is replaced;
 * a record whose marketplace payload is nested too deep or too large (a
 * hostile or broken answer) is still announced, with `order: null` and the
 * reason in `orderOmitted` — the change is not lost, and one record can never
 * wedge the outbox (Kafka refuses messages over its 1 MB limit).
 */

/** An imported event is at most this many bytes (well under Kafka's 1 MB default). */
export const maxImportedEventBytes = 512 * 1024
/** Levels of nesting kept of a marketplace payload (real orders have under ten). */
const maxPayloadDepth = 32
const maxIdChars = 512
const maxFieldChars = 200

export interface ImportedMessage {
  readonly eventId: string
  readonly value: string
}

/** An imported event that does not match its own schema (a bug of ours, never the marketplace's data). */
export class ImportedEventInvalid extends Schema.TaggedError<ImportedEventInvalid>()("ImportedEventInvalid", {
  reason: Schema.String
}) {}

const encodeImported = Schema.encodeEither(ConnectorOrderImportedJson)

export interface OmittedPayload {
  readonly externalOrderId: string
  readonly reason: string
}

/** A stable event id per (config, record, version of the record): the key of a change, published once. */
const eventIdFor = (configId: string, externalOrderId: string, updatedAt: string) =>
  Effect.map(sha256Hex(`${configId}\n${externalOrderId}\n${updatedAt}`), (hex) =>
    `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${
      hex.slice(17, 20)
    }-${hex.slice(20, 32)}`)

export const importedMessages = (
  config: { readonly id: string; readonly storeId: string; readonly connectorType: string },
  entityType: string,
  records: ReadonlyArray<ImportedOrder>,
  occurredAt: string
) =>
  Effect.gen(function*() {
    const messages: Array<ImportedMessage> = []
    const omitted: Array<OmittedPayload> = []
    for (const record of records) {
      const externalOrderId = storableText(record.externalOrderId, maxIdChars)
      const updatedAt = storableText(record.updatedAt, maxFieldChars)
      const eventId = yield* eventIdFor(config.id, externalOrderId, updatedAt)
      const envelope = (order: unknown, reason?: string) =>
        encodeImported({
          eventId,
          eventType: importedTopic,
          storeId: config.storeId,
          occurredAt,
          data: {
            configId: config.id,
            connectorType: config.connectorType,
            entityType,
            externalOrderId,
            status: storableText(record.status, maxFieldChars),
            updatedAt,
            order,
            ...(reason !== undefined ? { orderOmitted: reason } : {})
          }
        })
      const payload = storableJson(record.raw, maxPayloadDepth)
      const full = Either.isRight(payload) ? envelope(payload.right) : undefined
      let value = full !== undefined && Either.isRight(full) ? full.right : undefined
      if (value !== undefined && utf8Length(value) > maxImportedEventBytes) value = undefined
      if (value === undefined) {
        const reason = Either.isLeft(payload) ? payload.left : `larger than ${maxImportedEventBytes} bytes`
        omitted.push({ externalOrderId: storableText(externalOrderId, 64), reason })
        const bare = envelope(null, reason)
        if (Either.isLeft(bare)) {
          // The path, never its values: they may be the marketplace's data.
          const paths = ParseResult.ArrayFormatter.formatErrorSync(bare.left).map((e) => e.path.join("."))
          return yield* Effect.fail(new ImportedEventInvalid({ reason: `invalid at ${paths.join(", ")}` }))
        }
        value = bare.right
      }
      messages.push({ eventId, value })
    }
    // One message per change, in the order the adapter gave them.
    return { messages: [...new Map(messages.map((m) => [m.eventId, m])).values()], omitted }
  })
