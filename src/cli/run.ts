import { Cause, Console, Effect, Option } from "effect"

/**
 * Start-up failures that are the operator's to fix (a missing setting, an
 * unreachable Vault) end the process with one line, not a stack trace.
 */
export const oneLineStartupErrors = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.catchAllCause(self, (cause) => {
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure)) {
      const error = failure.value as { readonly _tag?: string; readonly message?: string }
      const known: Record<string, (e: typeof error) => string> = {
        ConfigurationError: (e) => e.message ?? "configuration error",
        VaultError: (e) => `start-up failed: ${e.message}`,
        SqlError: (e) => `start-up failed: database: ${e.message}`,
        KafkaError: (e) => `start-up failed: ${e.message}`,
        MigrationError: (e) => `start-up failed: migrations: ${e.message}`,
        ConfigError: (e) => {
          const text = String(e)
          const setting = /\b([A-Z][A-Z0-9_]+)\b/.exec(text)?.[1] ?? "a setting"
          return text.includes("Missing data")
            ? `configuration: ${setting} is missing`
            : `configuration: ${setting} is invalid: ${text.replace(/^.*?: "?/, "").replace(/"?\)?$/, "")}`
        },
        ServeError: (e) => `start-up failed: HTTP server: ${e.message}`
      }
      const describe = error._tag ? known[error._tag] : undefined
      if (describe) {
        return Console.error(describe(error)).pipe(Effect.zipRight(Effect.sync(() => {
          process.exitCode = 1
        })))
      }
    }
    return Effect.failCause(cause)
  })
