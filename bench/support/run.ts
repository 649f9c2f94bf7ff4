/**
 * What every benchmark script needs around its measurements: settings from the
 * environment, progress lines on stderr (stdout is the report), timeouts, child
 * commands, and a cleanup list that runs on success, failure, a signal or the
 * run's deadline alike — so databases, Redis keys, brokers and child processes
 * never outlive a run.
 */
import { execFile } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

/** Wall-clock milliseconds with sub-millisecond precision (child processes on this machine use the same clock). */
export const wallNow = () => performance.timeOrigin + performance.now()

/** When this run started (wall clock, ms). */
export const runStartedAt = wallNow()

export const progress = (message: string) =>
  process.stderr.write(`[bench +${((wallNow() - runStartedAt) / 1000).toFixed(1)}s] ${message}\n`)

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export const intEnv = (name: string, fallback: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === "") return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`)
  return value
}

export const withTimeout = <A>(what: string, ms: number, promise: Promise<A>): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${Math.round(ms / 1000)} s`)), ms)
    })
  ]).finally(() => clearTimeout(timer))
}

/** Runs a command from the repository root; its stderr goes to ours, its stdout is the result. */
export const runCommand = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, timeoutMs: number) =>
  new Promise<string>((resolve, reject) => {
    const child = execFile(command, [...args], { cwd: repoRoot, env, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stderr}`))
      else resolve(stdout)
    })
    child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk))
  })

export const sourceState = () =>
  runCommand("git", ["describe", "--always", "--dirty"], process.env, 10_000).then((out) => out.trim(), () => "unknown")

// ---------------------------------------------------------------------------
// Cleanup: last acquired, first released

const cleanups: Array<{ readonly name: string; readonly run: () => Promise<unknown> }> = []
let cleaningUp: Promise<void> | undefined

const runStep = async (step: { readonly name: string; readonly run: () => Promise<unknown> }) => {
  try {
    await withTimeout(`cleanup: ${step.name}`, 45_000, step.run())
  } catch (e) {
    progress(`cleanup: ${step.name} failed: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/**
 * Registers a release step; steps run in reverse order of registration at the
 * end of the run. The function returned runs this one step now instead.
 */
export const onCleanup = (name: string, run: () => Promise<unknown>): (() => Promise<void>) => {
  const step = { name, run }
  cleanups.push(step)
  return async () => {
    const index = cleanups.indexOf(step)
    if (index < 0) return
    cleanups.splice(index, 1)
    await runStep(step)
  }
}

/** Release steps of one part of a run (a system under test), released together when that part is done. */
export interface CleanupScope {
  readonly add: (name: string, run: () => Promise<unknown>) => void
  readonly close: () => Promise<void>
}

export const cleanupScope = (): CleanupScope => {
  const releases: Array<() => Promise<void>> = []
  return {
    add: (name, run) => void releases.push(onCleanup(name, run)),
    close: async () => {
      for (const release of releases.splice(0).reverse()) await release()
    }
  }
}

/** Where a helper registers what it acquired: a scope, or the run. */
export const registerIn = (scope: CleanupScope | undefined) =>
  scope ? scope.add : (name: string, run: () => Promise<unknown>) => void onCleanup(name, run)

/** True once the cleanup has started (what fails after that is its consequence). */
export const isCleaningUp = () => cleaningUp !== undefined

export const cleanup = () =>
  (cleaningUp ??= (async () => {
    // Last registered, first released; a step registered meanwhile (by code still running) is released too.
    for (let step = cleanups.pop(); step !== undefined; step = cleanups.pop()) await runStep(step)
  })())

/**
 * Runs `main` with the cleanup guaranteed: after it returns or throws, on
 * SIGINT/SIGTERM, on an uncaught error, and when `deadlineMs` has passed. Exits
 * the process at the end (kafkajs and pg may keep timers around).
 */
export const runBenchmark = (main: () => Promise<void>, deadlineMs: number) => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      progress(`${signal}: cleaning up`)
      void cleanup().finally(() => process.exit(130))
    })
  }
  // Whatever goes wrong, what the run acquired is released.
  for (const event of ["uncaughtException", "unhandledRejection"] as const) {
    process.on(event, (e: unknown) => {
      progress(`${event}: ${e instanceof Error ? e.stack ?? e.message : String(e)}; cleaning up`)
      void cleanup().finally(() => process.exit(1))
    })
  }
  const deadline = setTimeout(() => {
    progress(`the run took longer than ${deadlineMs / 1000} s: cleaning up`)
    void cleanup().finally(() => process.exit(1))
  }, deadlineMs)

  void main()
    .then(
      () => 0,
      (e: unknown) => {
        if (!isCleaningUp()) progress(`failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`)
        return 1
      }
    )
    .then(async (code) => {
      await cleanup()
      clearTimeout(deadline)
      progress(`done (${((wallNow() - runStartedAt) / 1000).toFixed(1)} s)`)
      process.exit(code)
    })
}
