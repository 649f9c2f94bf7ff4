import { Config, Duration, Effect, Layer, Option, ParseResult, Redacted, Schedule, Schema } from "effect"
import NodeVault from "node-vault"
import { type SecretData, Vault, VaultError, type VaultShape } from "../services/Vault.ts"
import { checkSecretPath } from "./VaultDev.ts"

export interface VaultLiveOptions {
  /** `VAULT_ADDR`, e.g. `https://vault.internal:8200`. */
  readonly endpoint: string
  readonly token: Redacted.Redacted<string>
  /** The KV version 2 mount, e.g. `ss3/kv` (it may itself contain slashes). */
  readonly mount: string
  /** Per HTTP request; default 5 seconds. */
  readonly requestTimeoutMs?: number
}

type Operation = VaultError["operation"]

/** Why one HTTP exchange failed, already free of secrets. */
interface CallFailure {
  readonly status: number | undefined
  /** Vault's `errors`: empty on a KV 404 for a missing secret, "no handler for route" on a wrong mount. */
  readonly errors: ReadonlyArray<string>
  readonly reason: string
  readonly transient: boolean
}

const ReadAnswer = Schema.Struct({
  data: Schema.Struct({
    // `null` when the latest version is soft-deleted or destroyed.
    data: Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.String })),
    metadata: Schema.Struct({ version: Schema.Int })
  })
})
// A KV version 1 mount answers a write with 204 and no body: requiring the version catches that misconfiguration.
const WriteAnswer = Schema.Struct({ data: Schema.Struct({ version: Schema.Int }) })
const ErrorAnswer = Schema.Struct({ errors: Schema.Array(Schema.String) })

/** Connection errors, a sealed or standby Vault (5xx) and rate limiting (429) are worth another try. */
const retryPolicy = Schedule.exponential("100 millis", 2).pipe(
  Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.seconds(2))),
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(3))
)

const isApiResponseError = (error: unknown): error is { response: { statusCode: number; body: unknown } } =>
  typeof error === "object" && error !== null && "response" in error &&
  typeof (error as { response: unknown }).response === "object" &&
  typeof (error as { response: { statusCode?: unknown } }).response?.statusCode === "number"

const errorCode = (error: unknown): string | undefined => {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined
  return typeof code === "string" && /^[A-Z0-9_]{2,40}$/.test(code) ? code : undefined
}

/**
 * Builds a failure from what node-vault rejected with. Only the status, Vault's
 * `errors` strings and an errno code are kept: an axios error carries the request
 * headers (the token) and body (the secret), so it is never stringified.
 */
const toCallFailure = (error: unknown, scrub: (text: string) => string): CallFailure => {
  if (isApiResponseError(error)) {
    const status = error.response.statusCode
    const errors = Schema.decodeUnknownOption(ErrorAnswer)(error.response.body).pipe(
      Option.map((answer) => answer.errors.filter((text) => text.length > 0).map((text) => scrub(text).slice(0, 300))),
      Option.getOrElse((): ReadonlyArray<string> => [])
    )
    const detail = errors.length > 0 ? `: ${errors.join("; ")}` : ""
    return { status, errors, reason: `HTTP ${status}${detail}`, transient: status >= 500 || status === 429 }
  }
  const code = errorCode(error)
  if (code !== undefined) {
    // errno codes (ECONNREFUSED, ECONNRESET, ETIMEDOUT, …) are network trouble; axios's own ERR_* mostly are not.
    const transient = !code.startsWith("ERR_") || code === "ERR_NETWORK"
    return { status: undefined, errors: [], reason: `cannot reach Vault (${code})`, transient }
  }
  return { status: undefined, errors: [], reason: "the Vault client failed unexpectedly", transient: false }
}

// Decode failures name where the answer is wrong, never what it held: a ParseError quotes values.
const describeParseError = (error: ParseResult.ParseError): string => {
  const where = ParseResult.ArrayFormatter.formatErrorSync(error)
    .slice(0, 3)
    .map((issue) => issue.path.join(".") || "(root)")
  return `unexpected answer from Vault at ${[...new Set(where)].join(", ")}`
}

// A 404 that explains itself comes from Vault's router (a wrong mount), not from the KV engine.
const isNotFound = (failure: CallFailure) => failure.status === 404 && failure.errors.length === 0

const trimSlashes = (mount: string) => mount.replace(/^\/+|\/+$/g, "")
const isValidMount = (mount: string) =>
  trimSlashes(mount).split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..")

const encodePath = (path: string) => path.split("/").map(encodeURIComponent).join("/")

export const makeVaultLive = (options: VaultLiveOptions): Effect.Effect<VaultShape> =>
  Effect.gen(function*() {
    if (!isValidMount(options.mount)) {
      return yield* Effect.dieMessage(`invalid Vault KV mount: ${JSON.stringify(options.mount)}`)
    }
    const mount = trimSlashes(options.mount)
    const client = NodeVault({
      endpoint: options.endpoint,
      token: Redacted.value(options.token),
      requestOptions: { timeout: options.requestTimeoutMs ?? 5_000 },
      // node-vault's debug output prints request bodies, secret values included.
      debug: () => undefined
    })

    const secretsOf = (values: ReadonlyArray<string>) => [Redacted.value(options.token), ...values]
    // Defence in depth: Vault does not echo values in its errors, but a proxy in between might.
    const scrubber = (secrets: ReadonlyArray<string>) => (text: string) =>
      secrets.filter((secret) => secret.length >= 4).reduce((acc, secret) => acc.split(secret).join("<redacted>"), text)

    const call = (
      operation: Operation,
      run: () => Promise<unknown>,
      secrets: ReadonlyArray<string>
    ): Effect.Effect<unknown, CallFailure> =>
      Effect.tryPromise({ try: run, catch: (error) => toCallFailure(error, scrubber(secretsOf(secrets))) }).pipe(
        Effect.retry({ schedule: retryPolicy, while: (failure) => failure.transient }),
        Effect.tapError((failure) =>
          Effect.annotateCurrentSpan({ "vault.operation": operation, "http.response.status_code": failure.status ?? 0 })
        )
      )

    const fail = (operation: Operation, path: string) => (failure: CallFailure | ParseResult.ParseError) =>
      new VaultError({
        operation,
        path,
        reason: ParseResult.isParseError(failure) ? describeParseError(failure) : failure.reason
      })

    const dataPath = (path: string) => `${mount}/data/${encodePath(path)}`
    const metadataPath = (path: string) => `${mount}/metadata/${encodePath(path)}`

    const read: VaultShape["read"] = (path) =>
      Effect.gen(function*() {
        yield* checkSecretPath("read", path)
        const values = yield* call("read", () => client.read(dataPath(path)), []).pipe(
          Effect.flatMap(Schema.decodeUnknown(ReadAnswer)),
          Effect.map((answer) => Option.fromNullable(answer.data.data)),
          // 404 is "no secret", whether it never existed or its latest version is deleted.
          Effect.catchIf(
            (failure) => !ParseResult.isParseError(failure) && isNotFound(failure),
            () => Effect.succeedNone
          ),
          Effect.mapError(fail("read", path))
        )
        return Option.map(values, (plain): SecretData =>
          Object.fromEntries(Object.entries(plain).map(([key, value]) => [key, Redacted.make(value)]))
        )
      }).pipe(Effect.withSpan("Vault.read", { attributes: { "vault.path": path } }))

    const write: VaultShape["write"] = (path, data) =>
      Effect.gen(function*() {
        yield* checkSecretPath("write", path)
        const values = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Redacted.value(value)]))
        yield* call("write", () => client.write(dataPath(path), { data: values }), Object.values(values)).pipe(
          Effect.flatMap(Schema.decodeUnknown(WriteAnswer)),
          Effect.mapError(fail("write", path))
        )
      }).pipe(Effect.withSpan("Vault.write", { attributes: { "vault.path": path } }))

    // Deleting the metadata destroys every version, not only the latest (which DELETE on data would do).
    const remove: VaultShape["delete"] = (path) =>
      Effect.gen(function*() {
        yield* checkSecretPath("delete", path)
        yield* call("delete", () => client.delete(metadataPath(path)), []).pipe(
          Effect.catchIf(isNotFound, () => Effect.void),
          Effect.mapError(fail("delete", path))
        )
      }).pipe(Effect.withSpan("Vault.delete", { attributes: { "vault.path": path } }))

    return { read, write, delete: remove }
  })

/** Reads `VAULT_ADDR`, `VAULT_TOKEN` (redacted) and `VAULT_KV_MOUNT` (default `ss3/kv`). */
export const VaultLive = Layer.effect(
  Vault,
  Effect.gen(function*() {
    const endpoint = yield* Config.string("VAULT_ADDR").pipe(
      Config.validate({ message: "VAULT_ADDR must be an http(s) URL", validation: (url) => /^https?:\/\/./.test(url) })
    )
    const token = yield* Config.redacted("VAULT_TOKEN")
    const mount = yield* Config.string("VAULT_KV_MOUNT").pipe(
      Config.withDefault("ss3/kv"),
      Config.validate({ message: "VAULT_KV_MOUNT must be a mount path such as ss3/kv", validation: isValidMount })
    )
    return yield* makeVaultLive({ endpoint, token, mount })
  })
)
