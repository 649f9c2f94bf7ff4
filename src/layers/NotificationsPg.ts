import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, PubSub, Schedule, Stream } from "effect"
import { Notifications } from "../services/Notifications.ts"

const relisten = Schedule.exponential("500 millis").pipe(Schedule.union(Schedule.spaced("10 seconds")))

/** PostgreSQL LISTEN/NOTIFY: reaches every instance connected to the same database. */
export const NotificationsPg = Layer.effect(
  Notifications,
  Effect.map(PgClient.PgClient, (pg) =>
    Notifications.of({
      // pg_notify() rather than `pg.notify`: that sends `NOTIFY channel, $1`, which PostgreSQL
      // refuses (NOTIFY takes no bind parameters: syntax error 42601), so nothing was ever sent.
      notify: (channel, payload) =>
        pg`SELECT pg_notify(${channel}, ${payload})`.pipe(
          Effect.asVoid,
          Effect.catchAll((error) => Effect.logWarning("NOTIFY failed", error).pipe(Effect.annotateLogs({ channel })))
        ),
      // "*" first on every (re)subscription: anything sent while not listening is unknown.
      listen: (channel) =>
        Stream.concat(Stream.make("*"), pg.listen(channel)).pipe(
          Stream.tapErrorCause((cause) => Effect.logWarning("LISTEN failed; listening again", cause)),
          Stream.retry(relisten),
          Stream.orDie
        )
    }))
)

/** In-process only (dev mode: one process; tests of a single instance). */
export const NotificationsLocal = Layer.effect(
  Notifications,
  Effect.gen(function*() {
    const hub = yield* PubSub.unbounded<readonly [string, string]>()
    return Notifications.of({
      notify: (channel, payload) => Effect.asVoid(PubSub.publish(hub, [channel, payload] as const)),
      listen: (channel) =>
        Stream.fromPubSub(hub).pipe(
          Stream.filter(([c]) => c === channel),
          Stream.map(([, payload]) => payload)
        )
    })
  })
)
