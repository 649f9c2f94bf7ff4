import { Effect, Option } from "effect"
import type { ImportedOrder } from "../../../domain/connectors/events.ts"
import type { HttpOut } from "../../../services/HttpOut.ts"
import type { ConnectorContext, ConnectorError, PollOutcome, PollPage } from "../ConnectorAdapter.ts"

/** A guard for `collectPages` (the poller has its own page budget). */
const maxCollectedPages = 10_000

/**
 * Every page of a catch-up in memory (`ConnectorAdapter.poll`): pages are
 * read while they say there is more; a change that came on two pages (the
 * same record id and `updatedAt`) is kept once. `finalize` may reorder or
 * merge what an adapter's pages gave.
 */
export const collectPages = <S>(
  pollPage: (context: ConnectorContext<S>, cursor: Option.Option<string>) => Effect.Effect<PollPage, ConnectorError, HttpOut>,
  finalize: (records: ReadonlyArray<ImportedOrder>) => ReadonlyArray<ImportedOrder> = (records) => records
) =>
(context: ConnectorContext<S>, cursor: Option.Option<string>): Effect.Effect<PollOutcome, ConnectorError, HttpOut> =>
  Effect.gen(function*() {
    const records: Array<ImportedOrder> = []
    const seen = new Set<string>()
    let at = cursor
    for (let pages = 0;; pages++) {
      const page = yield* pollPage(context, at)
      for (const record of page.records) {
        const key = `${record.externalOrderId}\u0000${record.updatedAt}`
        if (seen.has(key)) continue
        seen.add(key)
        records.push(record)
      }
      if (!page.more || pages + 1 >= maxCollectedPages) {
        return { entityType: page.entityType, records: [...finalize(records)], cursor: page.cursor }
      }
      at = Option.some(page.cursor)
    }
  })
