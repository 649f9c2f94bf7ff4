import type { HttpApp } from "@effect/platform"
import { HttpApi, HttpApiBuilder, HttpServerError, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../../domain/api/Api.ts"
import { clipValue } from "./clip.ts"

interface Route {
  readonly method: string
  readonly path: string
  readonly pattern: RegExp
  readonly params: ReadonlyArray<string>
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Every route of the API, as a pattern matching any value in its parameters. */
const routes: ReadonlyArray<Route> = (() => {
  const found: Array<Route> = [{ method: "GET", path: "/openapi.json", pattern: /^\/openapi\.json\/?$/, params: [] }]
  HttpApi.reflect(Api, {
    onGroup: () => {},
    onEndpoint: ({ endpoint }) => {
      const segments = endpoint.path.split("/")
      found.push({
        method: endpoint.method,
        path: endpoint.path,
        pattern: new RegExp(`^${segments.map((s) => (s.startsWith(":") ? "([^/]*)" : escape(s))).join("/")}/?$`),
        params: segments.filter((s) => s.startsWith(":")).map((s) => s.slice(1))
      })
    }
  })
  return found
})()

const decoded = (raw: string) => {
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

/** Characters the router cuts a path at (`;` starts "matrix parameters" for it) or a length it refuses. */
const unroutable = (value: string) => value.includes(";") || value.length > 256

const json = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(body, { status, headers })

/**
 * What the router answers with an empty 404, answered as the API answers:
 * a path no route has is a 404 `not_found`; a path a route has, with a
 * method it does not take, a 405 `method_not_allowed` with `Allow`; a path a
 * route has whose parameter the router could not take (a `;`, over 256
 * characters) a 400 naming that parameter, like every other invalid id.
 */
export const answerUnrouted = (method: string, url: string) => {
  const path = url.split("?")[0]!.split("#")[0]!
  const matching = routes.flatMap((route) => {
    const match = route.pattern.exec(path)
    return match === null ? [] : [{ route, values: match.slice(1).map(decoded) }]
  })
  const sameMethod = matching.find((m) => m.route.method === method || (method === "HEAD" && m.route.method === "GET"))
  if (sameMethod !== undefined) {
    const bad = sameMethod.route.params.filter((_, i) => unroutable(sameMethod.values[i] ?? ""))
    const fields = bad.length > 0 ? bad : sameMethod.route.params.slice(0, 1)
    const message = fields
      .map((field) => `${field}: Expected a valid ${field}, actual ${clipValue(sameMethod.values[sameMethod.route.params.indexOf(field)] ?? "")}`)
      .join("; ")
    return json(400, { error: "invalid_request", message: message || "the request path is invalid", fields })
  }
  if (matching.length > 0) {
    const allowed = [...new Set(matching.map((m) => m.route.method))].sort()
    return json(
      405,
      { error: "method_not_allowed", message: `${method} is not allowed here; allowed: ${allowed.join(", ")}` },
      { allow: allowed.join(", ") }
    )
  }
  return json(404, { error: "not_found", message: `no route ${method} ${clipValue(path)}` })
}

const isRouteNotFound = (error: unknown): error is HttpServerError.RouteNotFound =>
  HttpServerError.isServerError(error) && error._tag === "RouteNotFound"

export const RouteFallbacks = HttpApiBuilder.middleware(
  (app: HttpApp.Default) =>
    // The router fails with RouteNotFound though the app's type does not say so.
    Effect.catchAll(app, (error: unknown) =>
      isRouteNotFound(error)
        ? Effect.succeed(answerUnrouted(error.request.method, error.request.url))
        : Effect.fail(error as never))
)
