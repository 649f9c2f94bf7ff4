import { Command } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { ConfigProvider, Effect } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { afterEach, beforeEach, vi } from "vitest"

/** A request the stub admin API received. */
export interface Recorded {
  readonly method: string
  readonly url: string
  readonly authorization: string | undefined
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

export type Route = (req: Recorded) => { readonly status: number; readonly body?: unknown } | undefined

/** A canned admin API on 127.0.0.1:0: checks the bearer token like the real one, records every request. */
export const stubAdminApi = (token: string, route: Route) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: http.Server; readonly url: string; readonly requests: Array<Recorded> }>(
      (resume) => {
        const requests: Array<Recorded> = []
        const server = http.createServer((req, res) => {
          const chunks: Array<Buffer> = []
          req.on("data", (chunk: Buffer) => chunks.push(chunk))
          req.on("end", () => {
            const recorded: Recorded = {
              method: req.method ?? "",
              url: req.url ?? "",
              authorization: req.headers.authorization,
              headers: req.headers,
              body: Buffer.concat(chunks).toString("utf8")
            }
            requests.push(recorded)
            const answer = recorded.authorization === `Bearer ${token}`
              ? route(recorded) ?? { status: 404, body: { error: "not_found", message: "route not found" } }
              : { status: 401, body: { error: "unauthorized", message: "missing or invalid credentials" } }
            res.writeHead(answer.status, { "content-type": "application/json" })
            res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body))
          })
        })
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as AddressInfo
          resume(Effect.succeed({ server, url: `http://127.0.0.1:${port}`, requests }))
        })
      }
    ),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
  )

/**
 * `integration-service <args>` in-process over the given commands, with an
 * empty environment (no ADMIN_TOKEN, KAFKA_BROKERS, … from the machine running
 * the tests): what it printed and the exit status it set. Restores the
 * process's exit status around each test of the file that calls it.
 */
// Commands of any shape: each is type-checked where it is defined.
export const makeCli = (commands: readonly [Command.Command<any, any, any, any>, ...Array<Command.Command<any, any, any, any>>]) => {
  const run = Command.run(Command.make("integration-service").pipe(Command.withSubcommands(commands)), {
    name: "integration-service",
    version: "test"
  })
  let savedExitCode: typeof process.exitCode
  beforeEach(() => {
    savedExitCode = process.exitCode
  })
  afterEach(() => {
    process.exitCode = savedExitCode
  })
  return (args: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const out: Array<string> = []
      const err: Array<string> = []
      const log = vi.spyOn(console, "log").mockImplementation((...a: Array<unknown>) => void out.push(a.join(" ")))
      const error = vi.spyOn(console, "error").mockImplementation((...a: Array<unknown>) => void err.push(a.join(" ")))
      process.exitCode = undefined
      const exit = yield* (run(["node", "integration-service", ...args]) as Effect.Effect<void, unknown, never>).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
        Effect.provide(NodeContext.layer),
        Effect.exit,
        Effect.ensuring(Effect.sync(() => {
          log.mockRestore()
          error.mockRestore()
        }))
      )
      const exitCode = process.exitCode ?? 0
      process.exitCode = undefined
      return { exit, exitCode, stdout: out.join("\n"), stderr: err.join("\n") }
    })
}
