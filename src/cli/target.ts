import { FileSystem, type Path } from "@effect/platform"
import { Effect, Option, Redacted, Schema } from "effect"
import { DevServerFile, devServerFileName } from "../domain/devServerFile.ts"
import { makeVaultDev } from "../layers/VaultDev.ts"
import { CliError } from "./failures.ts"

/**
 * Which integration-service a command talks to, and with which admin token:
 * `--url` / `$INTEGRATION_SERVICE_URL`, else the dev server running from this
 * directory (`.data/dev-server.json`, on whatever port it bound), else
 * http://localhost:8080; `--token` / `$ADMIN_TOKEN`, else that dev server's
 * token (only when talking to it), else dev mode's stored token.
 */

export const defaultUrl = "http://localhost:8080"
/** Where dev mode (`npm start`) keeps its state in the directory it runs in. */
export const devDataDir = ".data"
/** Where dev mode keeps its file-backed secrets, the admin token among them. */
export const devSecretsDir = `${devDataDir}/secrets`
const serviceSecretPath = "integration-service"

/** The base URL without trailing slashes (the API's paths start with one). */
export const checkBaseUrl = (value: string): Effect.Effect<string, CliError> =>
  Effect.try({
    try: () => new URL(value),
    catch: () => new CliError({ message: `--url ${JSON.stringify(value)} is not a URL (e.g. ${defaultUrl})` })
  }).pipe(
    Effect.filterOrFail(
      (parsed) => parsed.protocol === "http:" || parsed.protocol === "https:",
      () => new CliError({ message: `--url ${JSON.stringify(value)} must be an http:// or https:// URL` })
    ),
    Effect.map((parsed) => parsed.href.replace(/\/+$/, ""))
  )

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, it is someone else's.
    return (error as { code?: string }).code === "EPERM"
  }
}

/** The dev server started from `dataDir`'s directory, if one is running (a file left by a killed one is ignored). */
export const findDevServer = (dataDir: string = devDataDir) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(`${dataDir}/${devServerFileName}`).pipe(Effect.option)
    const found = Option.flatMap(text, Schema.decodeUnknownOption(DevServerFile))
    return Option.filter(found, (server) => isAlive(server.pid))
  })

const nonEmpty = (value: Option.Option<Redacted.Redacted<string>>) =>
  Option.filter(value, (t) => Redacted.value(t).trim().length > 0)

/**
 * `--token`, else `ADMIN_TOKEN` (both arrive through the option), else the
 * token dev mode generated and keeps in its file-backed secret store.
 */
export const resolveToken = (
  given: Option.Option<Redacted.Redacted<string>>,
  secretsDir: string = devSecretsDir
): Effect.Effect<Redacted.Redacted<string>, CliError, FileSystem.FileSystem | Path.Path> =>
  Option.match(nonEmpty(given), {
    onSome: Effect.succeed,
    onNone: () =>
      Effect.gen(function*() {
        const vault = yield* makeVaultDev(secretsDir)
        const stored = yield* vault.read(serviceSecretPath).pipe(
          Effect.mapError((e) =>
            new CliError({ message: `no --token or ADMIN_TOKEN given, and dev mode's token could not be read: ${e.reason}` })
          )
        )
        const found = nonEmpty(Option.flatMap(stored, (data) => Option.fromNullable(data["admin.token"])))
        if (Option.isNone(found)) {
          return yield* new CliError({
            message: `no admin token: pass --token or set ADMIN_TOKEN (dev mode keeps its token under ${secretsDir}: ` +
              "run this from the directory where `npm start` runs)"
          })
        }
        return found.value
      })
  })

export interface Target {
  readonly baseUrl: string
  readonly token: Redacted.Redacted<string>
}

export interface TargetOptions {
  readonly url: Option.Option<string>
  readonly token: Option.Option<Redacted.Redacted<string>>
}

/** The base URL alone (commands that need no token, like `status`'s reachability). */
export const resolveBaseUrl = (url: Option.Option<string>, dataDir: string = devDataDir) =>
  Effect.gen(function*() {
    const given = Option.filter(url, (u) => u.trim().length > 0)
    if (Option.isSome(given)) return { baseUrl: yield* checkBaseUrl(given.value), dev: Option.none() }
    const dev = yield* findDevServer(dataDir)
    const baseUrl = yield* checkBaseUrl(Option.match(dev, { onNone: () => defaultUrl, onSome: (d) => d.url }))
    return { baseUrl, dev }
  })

export const resolveTarget = (
  options: TargetOptions,
  dataDir: string = devDataDir
): Effect.Effect<Target, CliError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const { baseUrl, dev } = yield* resolveBaseUrl(options.url, dataDir)
    const given = nonEmpty(options.token)
    if (Option.isNone(given) && Option.isSome(dev)) return { baseUrl, token: dev.value.adminToken }
    return { baseUrl, token: yield* resolveToken(given, `${dataDir}/secrets`) }
  })
