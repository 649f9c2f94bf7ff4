import { FileSystem, HttpServer } from "@effect/platform"
import { Console, Effect, Layer, Redacted, Schema } from "effect"
import { DevServerFile, devServerFileName } from "../domain/devServerFile.ts"
import { AppConfig } from "../services/AppConfig.ts"

const cli = "npx integration-service"

/** The banner: where it listens (the port actually bound), the admin token, commands that work as printed. */
export const devBannerText = (address: string, token: string, dataDir: string, sandbox: ReadonlyArray<string>) =>
  [
    "",
    "integration-service is running in dev mode (PGlite, in-process event bus, file-backed secrets)",
    `  HTTP          ${address}   (health: ${address}/healthz, API: ${address}/openapi.json)`,
    `  admin token   ${token}`,
    `  ops console   ${address}/console   (sign in with the admin token, store store-1)`,
    `  data          ${dataDir}/  (delete it to start afresh)`,
    `  CLI           \`${cli} …\` run in this directory finds this server (${dataDir}/${devServerFileName});`,
    `                elsewhere: export INTEGRATION_SERVICE_URL=${address} ADMIN_TOKEN=${token}`,
    ...sandbox,
    "",
    "Publish a test event, then see it:",
    `  ${cli} events publish --type order.placed --store store-1 --data '{"orderId":"o-1"}'`,
    `  ${cli} deliveries list --store store-1`,
    `  ${cli} status`,
    "or with curl:",
    `  curl -X POST ${address}/dev/events -H 'Authorization: Bearer ${token}' \\`,
    `       -H 'Content-Type: application/json' -d '{"eventType":"order.placed","storeId":"store-1","data":{"orderId":"o-1"}}'`,
    ""
  ].join("\n")

/**
 * What a newcomer needs after `npm start`: the banner, and `<data dir>/dev-server.json` for the
 * CLI (written once the server listens, removed when it stops). `sandbox`: lines the sandbox adds.
 */
export const makeDevBanner = (sandbox: ReadonlyArray<string> = []) =>
  Layer.scopedDiscard(
    Effect.gen(function*() {
      const config = yield* AppConfig
      const fs = yield* FileSystem.FileSystem
      // The server listens on every interface; a browser or curl wants a host name.
      const address = (yield* HttpServer.addressFormattedWith(Effect.succeed)).replace("//0.0.0.0:", "//localhost:")
      const file = `${config.dataDir}/${devServerFileName}`
      const contents = yield* Schema.encode(DevServerFile)({ url: address, adminToken: config.adminToken, pid: process.pid })
      // Removed first: `mode` applies only to a file being created, and this one holds the token.
      yield* fs.remove(file, { force: true })
      yield* fs.writeFileString(file, contents, { mode: 0o600 })
      yield* Effect.addFinalizer(() => fs.remove(file, { force: true }).pipe(Effect.ignore))
      yield* Console.log(devBannerText(address, Redacted.value(config.adminToken), config.dataDir, sandbox))
    })
  )

export const DevBannerLive = makeDevBanner()
