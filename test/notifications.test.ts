import { SqlClient } from "@effect/sql/SqlClient"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Fiber, Layer, Queue, Stream } from "effect"
import { listenApplicationName, NotificationsPg } from "../src/layers/NotificationsPg.ts"
import { Notifications } from "../src/services/Notifications.ts"
import { IsolatedTestDbLive } from "./support/db.ts"

const next = <A>(queue: Queue.Queue<A>) =>
  Queue.take(queue).pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("nothing heard") }))

describe("NotificationsPg (LISTEN/NOTIFY on real PostgreSQL)", () => {
  layer(NotificationsPg.pipe(Layer.provideMerge(IsolatedTestDbLive)), { excludeTestServices: true })((it) => {
    it.scoped("delivers notifications, and listens again after its connection was dropped (announcing `*`)", () =>
      Effect.gen(function*() {
        const notifications = yield* Notifications
        const sql = yield* SqlClient
        const heard = yield* Queue.unbounded<string>()
        const fiber = yield* notifications.listen("test_channel").pipe(
          Stream.runForEach((m) => Queue.offer(heard, m)),
          Effect.forkScoped
        )
        expect(yield* next(heard)).toBe("*")
        yield* notifications.notify("test_channel", "credential-1")
        expect(yield* next(heard)).toBe("credential-1")

        yield* sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                   WHERE application_name = ${listenApplicationName} AND datname = current_database()`
        expect(yield* next(heard)).toBe("*")
        yield* notifications.notify("test_channel", "credential-2")
        expect(yield* next(heard)).toBe("credential-2")
        yield* Fiber.interrupt(fiber)
      }))
  })
})
