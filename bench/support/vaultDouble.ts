/** Starts ./vaultDoubleProcess.ts and answers where it listens; stopped by the scope's (or the run's) cleanup. */
import { fork } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { type CleanupScope, registerIn, withTimeout } from "./run.ts"

export interface VaultDouble {
  readonly address: string
  readonly token: string
  readonly mount: string
  readonly pid: number
}

export const startVaultDouble = async (scope?: CleanupScope): Promise<VaultDouble> => {
  const child = fork(join(dirname(fileURLToPath(import.meta.url)), "vaultDoubleProcess.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  registerIn(scope)("Vault double process", async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
    child.kill("SIGTERM")
    await withTimeout("Vault double exit", 5000, exited).catch(() => child.kill("SIGKILL"))
  })
  const ready = await withTimeout("Vault double start-up", 60_000, new Promise<Omit<VaultDouble, "pid">>((resolve, reject) => {
    child.once("message", (m: Omit<VaultDouble, "pid">) => resolve(m))
    child.once("exit", (code, signal) => reject(new Error(`the Vault double exited (${signal ?? code})`)))
  }))
  return { address: ready.address, token: ready.token, mount: ready.mount, pid: child.pid! }
}
