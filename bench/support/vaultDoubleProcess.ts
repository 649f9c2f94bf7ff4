/**
 * The Vault KV v2 double of the tests (test/support/vaultKvDouble.ts) as a
 * process of its own, for a service the benchmark runs with `serve`: the
 * service's Vault reads and writes (signing secrets) cost this process, not the
 * bench's event loop. Answers {type: "ready", address, token, mount} over IPC and
 * ends with its parent.
 */
import { Effect } from "effect"
import { startVaultKvDouble } from "../../test/support/vaultKvDouble.ts"

process.on("SIGINT", () => {})
process.on("disconnect", () => process.exit(0))

Effect.runFork(
  Effect.scoped(
    Effect.gen(function*() {
      const double = yield* startVaultKvDouble()
      process.send?.({ type: "ready", address: double.address, token: double.token, mount: double.mount })
      yield* Effect.never
    })
  )
)
