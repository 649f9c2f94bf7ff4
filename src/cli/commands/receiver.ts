import { Command, Options } from "@effect/cli"
import { Config, Console, DateTime, Effect, Redacted, Runtime, type Scope } from "effect"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { verify } from "../../domain/webhooks/signature.ts"
import { CliError, runCommand } from "../failures.ts"

/** Bigger bodies are refused (413): a webhook envelope is a few kilobytes. */
const maxBodyBytes = 5 * 1024 * 1024

export interface ReceivedDelivery {
  /** When the request's body had been read (ISO-8601). */
  readonly time: string
  /** `X-SS3-Delivery`, the same on every retry of a delivery. */
  readonly deliveryId: string | undefined
  /** `X-SS3-Event`. */
  readonly eventType: string | undefined
  readonly verified: boolean
  readonly bytes: number
  /** The raw body, as UTF-8 text. */
  readonly body: string
  /** The status answered. */
  readonly status: number
}

export interface ReceiverOptions {
  readonly port: number
  readonly host: string
  readonly secret: string | Redacted.Redacted<string>
  /** Answered to a correctly signed POST; a bad or missing signature gets 401. */
  readonly status: number
  readonly onDelivery: (delivery: ReceivedDelivery) => Effect.Effect<void>
}

export interface Receiver {
  readonly url: string
  readonly port: number
}

const header = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

const hostForUrl = (host: string) => (host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "localhost" : host)

/**
 * A local webhook endpoint: every POST's raw body is checked against its
 * `X-SS3-Signature` (HMAC-SHA256 under `secret`), reported to `onDelivery`,
 * and answered `status` (401 when the signature does not match). Listens
 * until the scope closes.
 */
export const makeReceiver = (options: ReceiverOptions): Effect.Effect<Receiver, CliError, Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const secret = typeof options.secret === "string" ? options.secret : Redacted.value(options.secret)

    const handle = (request: IncomingMessage, body: Uint8Array) =>
      Effect.gen(function*() {
        const verified = yield* verify(secret, body, header(request, "x-ss3-signature"))
        const status = verified ? options.status : 401
        yield* options.onDelivery({
          time: DateTime.formatIso(yield* DateTime.now),
          deliveryId: header(request, "x-ss3-delivery"),
          eventType: header(request, "x-ss3-event"),
          verified,
          bytes: body.byteLength,
          body: new TextDecoder().decode(body),
          status
        })
        return { status, verified }
      })

    const answer = (response: ServerResponse, status: number, text: string, extra: Record<string, string> = {}) => {
      if (response.headersSent) return
      response.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...extra })
      response.end(`${text}\n`)
    }

    const onRequest = (request: IncomingMessage, response: ServerResponse) => {
      if (request.method !== "POST") {
        request.resume()
        return answer(response, 405, "only POST is accepted here", { allow: "POST" })
      }
      const chunks: Array<Buffer> = []
      let size = 0
      request.on("data", (chunk: Buffer) => {
        size += chunk.length
        if (size > maxBodyBytes) {
          answer(response, 413, "body too large", { connection: "close" })
          request.destroy()
          return
        }
        chunks.push(chunk)
      })
      request.on("error", () => response.destroy())
      request.on("end", () => {
        if (size > maxBodyBytes) return
        Runtime.runPromise(runtime)(handle(request, Buffer.concat(chunks))).then(
          ({ status, verified }) => answer(response, status, verified ? "ok" : "signature mismatch"),
          () => answer(response, 500, "receiver error")
        )
      })
    }

    const server = yield* Effect.acquireRelease(
      Effect.async<Server, CliError>((resume) => {
        const server = createServer(onRequest)
        const onError = (error: NodeJS.ErrnoException) =>
          resume(Effect.fail(
            new CliError({
              message: `cannot listen on ${options.host}:${options.port}: ${
                error.code === "EADDRINUSE" ? "the port is in use" : error.code ?? error.message
              }`
            })
          ))
        server.once("error", onError)
        server.listen(options.port, options.host, () => {
          server.off("error", onError)
          resume(Effect.succeed(server))
        })
      }),
      (server) =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })
    )
    const port = (server.address() as AddressInfo).port
    return { url: `http://${hostForUrl(options.host)}:${port}/`, port }
  })

/** `time  delivery  event  verified|SIGNATURE MISMATCH  N bytes  → status`. */
export const formatDeliveryLine = (d: ReceivedDelivery): string =>
  [
    d.time,
    d.deliveryId ?? "(no X-SS3-Delivery)",
    d.eventType ?? "(no X-SS3-Event)",
    d.verified ? "verified" : "SIGNATURE MISMATCH",
    `${d.bytes} bytes`,
    `→ ${d.status}`
  ].join("  ")

const parseBody = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export const deliveryJson = (d: ReceivedDelivery) =>
  JSON.stringify({
    time: d.time,
    deliveryId: d.deliveryId ?? null,
    eventType: d.eventType ?? null,
    verified: d.verified,
    bytes: d.bytes,
    status: d.status,
    body: parseBody(d.body)
  })

export interface ReceiverCommandInput {
  readonly port: number
  readonly host: string
  readonly secret: Redacted.Redacted<string>
  readonly status: number
  readonly json: boolean
}

export const runReceiver = (input: ReceiverCommandInput) =>
  Effect.gen(function*() {
    if (input.port < 0 || input.port > 65535) {
      return yield* new CliError({ message: `--port ${input.port} is invalid: expected 0 to 65535` })
    }
    if (input.status < 200 || input.status > 599) {
      return yield* new CliError({ message: `--status ${input.status} is invalid: expected an HTTP status, 200 to 599` })
    }
    if (Redacted.value(input.secret).length === 0) {
      return yield* new CliError({ message: "--secret is empty" })
    }
    const receiver = yield* makeReceiver({
      port: input.port,
      host: input.host,
      secret: input.secret,
      status: input.status,
      onDelivery: (delivery) => Console.log(input.json ? deliveryJson(delivery) : formatDeliveryLine(delivery))
    })
    const banner = `receiving webhook deliveries at ${receiver.url} (answering ${input.status}; 401 on a bad signature). ` +
      "Ctrl-C to stop."
    // With --json, stdout carries only the deliveries (one JSON object per line).
    yield* input.json ? Console.error(banner) : Console.log(banner)
    return yield* Effect.never
  }).pipe(Effect.scoped)

export const receiverCommand = Command.make(
  "receiver",
  {
    port: Options.integer("port").pipe(
      Options.withDefault(9000),
      Options.withDescription("Port to listen on (0: any free port).")
    ),
    host: Options.text("host").pipe(
      Options.withDefault("127.0.0.1"),
      Options.withDescription("Address to listen on (0.0.0.0 to accept from other machines).")
    ),
    secret: Options.redacted("secret").pipe(
      Options.withFallbackConfig(Config.redacted("WEBHOOK_SECRET")),
      Options.withDescription(
        "The subscription's signing secret (shown when it was created or rotated). Default: $WEBHOOK_SECRET, " +
          "which keeps it out of the process list."
      )
    ),
    status: Options.integer("status").pipe(
      Options.withDefault(200),
      Options.withDescription("Status answered to a correctly signed delivery (e.g. 500 to watch the retries).")
    ),
    json: Options.boolean("json").pipe(
      Options.withDescription("Print one JSON object per delivery (with its body) instead of a line.")
    )
  },
  (input) => runCommand(runReceiver(input))
).pipe(
  Command.withDescription(
    "A local webhook endpoint: prints each POSTed delivery (time, X-SS3-Delivery, X-SS3-Event, whether X-SS3-Signature " +
      "verifies, body size) and answers --status, or 401 when the signature does not match. Runs until Ctrl-C."
  )
)
