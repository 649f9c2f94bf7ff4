import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, PubSub, Redacted, Schedule, Stream } from "effect"
import pg from "pg"
import { Notifications } from "../services/Notifications.ts"

/** Names the listening connections, so operators (and tests) can tell them apart. */
export const listenApplicationName = "integration-service-listen"

/**
 * A connection of its own per subscription that fails the stream when it
 * drops (`@effect/sql-pg`'s shared LISTEN connection ignores its errors, so a
 * dropped one would go silent for good); the retry then listens again.
 */
const listenOn = (config: PgClient.PgClientConfig, channel: string) =>
  Stream.asyncScoped<string, Error>((emit) =>
    Effect.gen(function*() {
      const client = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            const c = new pg.Client({
              ...(config.url ? { connectionString: Redacted.value(config.url) } : {}),
              ...(config.host ? { host: config.host } : {}),
              ...(config.port ? { port: config.port } : {}),
              ...(config.database ? { database: config.database } : {}),
              ...(config.username ? { user: config.username } : {}),
              ...(config.password ? { password: Redacted.value(config.password) } : {}),
              application_name: listenApplicationName
            })
            c.on("error", (error) => void emit.fail(error))
            c.on("end", () => void emit.fail(new Error("the LISTEN connection closed")))
            await c.connect()
            return c
          },
          catch: (cause) => cause instanceof Error ? cause : new Error(String(cause))
        }),
        (c) => Effect.promise(() => c.end().catch(() => {}))
      )
      client.on("notification", (message) => {
        if (message.channel === channel && message.payload !== undefined) void emit.single(message.payload)
      })
      yield* Effect.tryPromise({
        try: () => client.query(`LISTEN ${client.escapeIdentifier(channel)}`),
        catch: (cause) => cause instanceof Error ? cause : new Error(String(cause))
      })
      // Listening from here on; whatever was sent before is unknown.
      yield* Effect.promise(() => emit.single("*"))
    })
  )

const relisten = Schedule.exponential("500 millis").pipe(Schedule.union(Schedule.spaced("10 seconds")))

/** PostgreSQL LISTEN/NOTIFY: reaches every instance connected to the same database. */
export const NotificationsPg = Layer.effect(
  Notifications,
  Effect.map(PgClient.PgClient, (client) =>
    Notifications.of({
      // pg_notify() rather than `pg.notify`: that sends `NOTIFY channel, $1`, which PostgreSQL
      // refuses (NOTIFY takes no bind parameters: syntax error 42601), so nothing was ever sent.
      notify: (channel, payload) =>
        client`SELECT pg_notify(${channel}, ${payload})`.pipe(
          Effect.asVoid,
          Effect.catchAll((error) => Effect.logWarning("NOTIFY failed", error).pipe(Effect.annotateLogs({ channel })))
        ),
      // "*" on every (re)subscription, once listening: anything sent while not listening is unknown.
      listen: (channel) =>
        listenOn(client.config, channel).pipe(
          Stream.tapErrorCause((cause) => Effect.logWarning("LISTEN failed; listening again", cause)),
          Stream.retry(relisten),
          Stream.orDie // unreachable: the relisten schedule never gives up
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
