import { HttpServer } from "@effect/platform"
import { Console, Effect, Layer, Option, Schedule } from "effect"
import { generateKeyPairSync } from "node:crypto"
import { AppConfig } from "../../services/AppConfig.ts"
import { makeAdminClient } from "../client.ts"
import { startSandboxMarketplaces } from "./sandboxMarketplaces.ts"

/** The store the demo connectors belong to (the banner's examples use it too). */
export const sandboxStore = "store-1"

const demoConfigs = (base: string) => {
  // Google signs a JWT with the service account's key: a throwaway one, made here.
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" }
  })
  return [
    {
      connectorType: "amazon",
      eventSubscriptions: ["product.updated", "inventory.updated", "order.fulfilled"],
      settings: { sellerId: "SANDBOX1", baseUrl: `${base}/amazon`, tokenUrl: `${base}/amazon/auth/o2/token`, pollIntervalSeconds: 60 },
      credentials: { apiKey: "amzn1.application-oa2-client.sandbox", apiSecret: "sandbox-secret", refreshToken: "Atzr|sandbox" }
    },
    {
      connectorType: "ebay",
      eventSubscriptions: ["product.updated", "inventory.updated"],
      settings: { baseUrl: `${base}/ebay`, tokenUrl: `${base}/ebay/identity/v1/oauth2/token`, pollIntervalSeconds: 60 },
      credentials: { apiKey: "sandbox-app-id", apiSecret: "sandbox-cert-id", refreshToken: "v^1.1#sandbox" }
    },
    {
      connectorType: "google-shopping",
      eventSubscriptions: ["product.updated"],
      settings: { accountId: "123456", dataSourceId: "7890", baseUrl: `${base}/google`, tokenUrl: `${base}/google/token`, pollIntervalSeconds: 60 },
      credentials: { apiKey: "sandbox@sandbox.iam.gserviceaccount.com", apiSecret: privateKey }
    }
  ] as const
}

/**
 * `dev --sandbox`: the marketplace stand-ins, and a demo connector config of
 * each type in store-1 pointed at them, with credentials (made once; a
 * restart points the same configs at the new stand-ins' port). Set up through
 * the admin API, as a store admin would, once the API answers.
 */
export const SandboxLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const sandbox = yield* startSandboxMarketplaces()
    const config = yield* AppConfig
    const address = (yield* HttpServer.addressFormattedWith(Effect.succeed)).replace("//0.0.0.0:", "//localhost:")
    const setUp = Effect.gen(function*() {
      const client = yield* makeAdminClient({ url: Option.some(address), token: Option.some(config.adminToken) })
      const path = { storeId: sandboxStore }
      const existing = (yield* client.connectors.list({ path })).items
      const lines: Array<string> = []
      for (const demo of demoConfigs(sandbox.url)) {
        const displayName = `Sandbox ${demo.connectorType}`
        const found = existing.find((c) => c.displayName === displayName)
        // Made inactive and switched on once its credentials are stored: its first poll finds them.
        const id = found?.id ?? (yield* client.connectors.create({
          path,
          payload: {
            connectorType: demo.connectorType,
            displayName,
            eventSubscriptions: [...demo.eventSubscriptions],
            settings: demo.settings,
            isActive: false
          }
        })).id
        yield* client.connectors.putCredentials({ path: { ...path, id }, payload: demo.credentials })
        const saved = yield* client.connectors.update({ path: { ...path, id }, payload: { settings: demo.settings, isActive: true } })
        lines.push(`  ${demo.connectorType.padEnd(16)}${saved.id}`)
      }
      yield* Console.log([
        "",
        `Sandbox: Amazon, eBay and Google stand-ins at ${sandbox.url}; demo connectors in ${sandboxStore}:`,
        ...lines,
        "Send them a product, then watch the runs (and a poll import the stand-ins' orders):",
        `  npx integration-service events publish --type product.updated --store ${sandboxStore} --data '{"sku":"demo-1","title":"Demo","quantity":3,"price":{"amount":9.99,"currency":"USD"}}'`,
        `  npx integration-service connectors log <id> --store ${sandboxStore}`,
        `  npx integration-service connectors poll <id> --store ${sandboxStore}`,
        ""
      ].join("\n"))
    })
    // The API may not be attached yet (503 at start-up): try again for a while.
    yield* setUp.pipe(
      Effect.retry({ schedule: Schedule.spaced("250 millis"), times: 40 }),
      Effect.catchAllCause((cause) => Effect.logWarning("sandbox: the demo connectors could not be set up", cause)),
      Effect.forkScoped
    )
  })
)
