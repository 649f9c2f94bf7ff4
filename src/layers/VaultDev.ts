import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Layer, Option, Redacted, Schema } from "effect"
import { type SecretData, Vault, VaultError, type VaultShape } from "../services/Vault.ts"

type Operation = VaultError["operation"]

/**
 * The path rules every implementation shares. `.`/`..` segments are refused because
 * an HTTP client normalizes them away: `webhook/../../shared` would reach another
 * service's secrets in Vault, and outside the store's directory on disk.
 */
export const checkSecretPath = (operation: Operation, path: string): Effect.Effect<string, VaultError> => {
  const fail = (reason: string) => Effect.fail(new VaultError({ operation, path, reason }))
  if (path.length === 0 || path.length > 512) return fail("the path must hold 1 to 512 characters")
  if (/[\u0000-\u001f\u007f]/.test(path)) return fail("the path contains a control character")
  const bad = path.split("/").find((segment) => segment === "" || segment === "." || segment === "..")
  return bad === undefined ? Effect.succeed(path) : fail("empty, '.' and '..' path segments are not allowed")
}

const StoredSecret = Schema.parseJson(
  Schema.Struct({
    version: Schema.Int,
    data: Schema.Record({ key: Schema.String, value: Schema.String })
  })
)
const decodeStored = Schema.decodeUnknown(StoredSecret)
const encodeStored = Schema.encode(StoredSecret)

const reveal = (data: SecretData): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Redacted.value(value)]))

/**
 * A file-backed secret store for dev mode: one JSON file per secret path, named by
 * its URL encoding so a path never becomes a directory (Vault lets `a` and `a/b` both
 * hold secrets). On a case-insensitive file system paths differing only in case collide.
 */
export const makeVaultDev = (dir: string): Effect.Effect<VaultShape, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* Path.Path
    // One writer at a time keeps the version counter honest within this process.
    const writeLock = yield* Effect.makeSemaphore(1)

    const fileOf = (path: string) => paths.join(dir, `${encodeURIComponent(path)}.json`)
    // PlatformError messages name the file, which is harmless, but its reason is all a caller needs.
    const ioFailure = (operation: Operation, path: string) => (error: PlatformError) =>
      new VaultError({
        operation,
        path,
        reason: `file store ${error._tag === "SystemError" ? error.reason : "BadArgument"} in ${error.method}`
      })

    const load = (operation: Operation, path: string) =>
      fs.readFileString(fileOf(path)).pipe(
        Effect.map(Option.some),
        Effect.catchIf(
          (error) => error._tag === "SystemError" && error.reason === "NotFound",
          () => Effect.succeed(Option.none<string>())
        ),
        Effect.mapError(ioFailure(operation, path)),
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeedNone,
          // The parse error could quote the file, secret values included: keep only the fact.
          onSome: (text) =>
            decodeStored(text).pipe(
              Effect.map(Option.some),
              Effect.mapError(() => new VaultError({ operation, path, reason: "the stored file is not a valid secret" }))
            )
        }))
      )

    // Written to a temporary file first and renamed, so a reader sees the old or the new secret, never half.
    const store = (path: string, contents: string) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory(dir, { recursive: true, mode: 0o700 })
        const temp = paths.join(dir, `.tmp-${crypto.randomUUID()}`)
        const persist = Effect.scoped(
          Effect.gen(function*() {
            const file = yield* fs.open(temp, { flag: "wx", mode: 0o600 })
            yield* file.writeAll(new TextEncoder().encode(contents))
            yield* file.sync
          })
        ).pipe(Effect.zipRight(fs.rename(temp, fileOf(path))))
        yield* persist.pipe(Effect.tapError(() => fs.remove(temp, { force: true }).pipe(Effect.ignore)))
      }).pipe(Effect.mapError(ioFailure("write", path)))

    const read: VaultShape["read"] = (path) =>
      checkSecretPath("read", path).pipe(
        Effect.zipRight(load("read", path)),
        Effect.map(Option.map(({ data }) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Redacted.make(v)])))),
        Effect.withSpan("VaultDev.read", { attributes: { "vault.path": path } })
      )

    const write: VaultShape["write"] = (path, data) =>
      Effect.gen(function*() {
        yield* checkSecretPath("write", path)
        const previous = yield* load("write", path)
        const version = Option.match(previous, { onNone: () => 1, onSome: (stored) => stored.version + 1 })
        const contents = yield* encodeStored({ version, data: reveal(data) }).pipe(
          Effect.mapError(() => new VaultError({ operation: "write", path, reason: "the secret could not be encoded" }))
        )
        yield* store(path, contents)
      }).pipe(writeLock.withPermits(1), Effect.withSpan("VaultDev.write", { attributes: { "vault.path": path } }))

    const remove: VaultShape["delete"] = (path) =>
      checkSecretPath("delete", path).pipe(
        Effect.zipRight(fs.remove(fileOf(path), { force: true }).pipe(Effect.mapError(ioFailure("delete", path)))),
        writeLock.withPermits(1),
        Effect.withSpan("VaultDev.delete", { attributes: { "vault.path": path } })
      )

    return { read, write, delete: remove }
  })

/** Provide `NodeContext.layer` (or `NodeFileSystem.layer` and `NodePath.layer`) at the edge. */
export const VaultDev = (dir: string): Layer.Layer<Vault, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(Vault, makeVaultDev(dir))
