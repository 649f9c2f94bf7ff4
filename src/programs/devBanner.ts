import { HttpServer } from "@effect/platform"
import { Console, Effect, Layer, Redacted } from "effect"
import { AppConfig } from "../services/AppConfig.ts"

/** What a newcomer needs after `npm start`: where it listens, the admin token, how to send an event. */
export const DevBannerLive = Layer.effectDiscard(
  Effect.gen(function*() {
    const config = yield* AppConfig
    // The server listens on every interface; a browser or curl wants a host name.
    const address = (yield* HttpServer.addressFormattedWith(Effect.succeed)).replace("//0.0.0.0:", "//localhost:")
    const token = Redacted.value(config.adminToken)
    yield* Console.log(
      [
        "",
        "integration-service is running in dev mode (PGlite, in-process event bus, file-backed secrets)",
        `  HTTP          ${address}   (health: ${address}/healthz, API: ${address}/openapi.json)`,
        `  admin token   ${token}`,
        `  ops console   ${address}/console   (sign in with the admin token, store store-1)`,
        `  data          ${config.dataDir}/  (delete it to start afresh)`,
        "",
        "Publish a test event (then see it with `npx integration-service deliveries list --store store-1`):",
        "  npx integration-service events publish --type order.placed --store store-1 --data '{\"orderId\":\"o-1\"}'",
        "or with curl:",
        `  curl -X POST ${address}/dev/events -H 'Authorization: Bearer ${token}' \\`,
        `       -H 'Content-Type: application/json' -d '{"eventType":"order.placed","storeId":"store-1","data":{"orderId":"o-1"}}'`,
        ""
      ].join("\n")
    )
  })
)
