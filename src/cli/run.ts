import { Cause, Console, Duration, Effect, Layer, Option } from "effect"

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

/**
 * Runs the service's layer until the process is told to stop (SIGTERM, Ctrl-C: NodeRuntime
 * interrupts the main fiber), with a log line when the stop begins and one when it is done.
 * `deadline`: a stop that takes longer ends the process anyway (dev mode, where nobody waits
 * for an attempt in flight to be recorded).
 */
export const runUntilSignal = <ROut, E, R>(
  layer: Layer.Layer<ROut, E, R>,
  options: { readonly deadline?: Duration.DurationInput } = {}
) =>
  Effect.scoped(
    Layer.build(layer).pipe(
      Effect.zipRight(Effect.never),
      Effect.onInterrupt(() =>
        Effect.logInfo("stop requested: shutting down").pipe(
          Effect.zipRight(options.deadline === undefined ? Effect.void : Effect.sync(() => {
            const timer = setTimeout(() => {
              console.error(`shutdown took longer than ${Duration.format(options.deadline!)}: exiting`)
              process.exit(1)
            }, Duration.toMillis(options.deadline!))
            timer.unref()
          }))
        )
      )
    )
  ).pipe(Effect.onInterrupt(() => Effect.logInfo("stopped")))
