import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Effect, Option } from "effect"
import { Api } from "../../domain/api/Api.ts"
import { NotFound } from "../../domain/api/errors.ts"
import { type ConsoleAsset, ConsoleAssets } from "../../services/ConsoleAssets.ts"

/**
 * Scripts, styles and API calls from this origin only; no inline script or
 * style, no plugins, no framing, no <base> tricks. Values from the API are put
 * in the page as text by the console's own code, and even a slip there could
 * not run a script this policy did not allow.
 */
export const consoleSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join("; ")

export const consoleHeaders = {
  "content-security-policy": consoleSecurityPolicy,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  // The files change with the service: always revalidated, never stale after an upgrade.
  "cache-control": "no-cache"
}

const respond = (file: ConsoleAsset) =>
  HttpServerResponse.uint8Array(file.body, { contentType: file.contentType, headers: consoleHeaders })

export const ConsoleHandlers = HttpApiBuilder.group(Api, "console", (handlers) =>
  Effect.gen(function*() {
    const assets = yield* ConsoleAssets
    const serve = (name: string) =>
      Option.match(assets.find(name), {
        onNone: () => Effect.fail(NotFound.of("console file")),
        onSome: (file) => Effect.succeed(respond(file))
      })
    return handlers
      .handle("page", () => serve("index.html"))
      .handle("asset", ({ path }) => serve(path.asset))
  }))
