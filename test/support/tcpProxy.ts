import { Effect } from "effect"
import { type AddressInfo, createServer, Socket } from "node:net"

/**
 * A TCP proxy on 127.0.0.1:0 in front of a real server (PostgreSQL), for the
 * length of a scope: `cut` drops every connection through it and refuses new
 * ones (an outage as clients see it, without touching the shared server);
 * `restore` lets connections through again.
 */
export const startTcpProxy = (target: { readonly host: string; readonly port: number }) =>
  Effect.gen(function*() {
    const sockets = new Set<Socket>()
    let cut = false
    const server = yield* Effect.acquireRelease(
      Effect.async<ReturnType<typeof createServer>>((resume) => {
        const s = createServer((client) => {
          if (cut) {
            client.destroy()
            return
          }
          const upstream = new Socket()
          sockets.add(client)
          sockets.add(upstream)
          const drop = () => {
            client.destroy()
            upstream.destroy()
            sockets.delete(client)
            sockets.delete(upstream)
          }
          client.on("error", drop).on("close", drop)
          upstream.on("error", drop).on("close", drop)
          upstream.connect(target.port, target.host, () => {
            client.pipe(upstream)
            upstream.pipe(client)
          })
        })
        s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
      }),
      (s) =>
        Effect.async<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          s.close(() => resume(Effect.void))
        })
    )
    return {
      port: (server.address() as AddressInfo).port,
      cut: Effect.sync(() => {
        cut = true
        for (const socket of sockets) socket.destroy()
        sockets.clear()
      }),
      restore: Effect.sync(() => {
        cut = false
      })
    }
  })

/** The same database URL, through the proxy. */
export const throughProxy = (url: string, port: number) => {
  const u = new URL(url)
  u.hostname = "127.0.0.1"
  u.port = String(port)
  return u.toString()
}
