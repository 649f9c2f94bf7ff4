/**
 * The Kafka broker of a benchmark run: `KAFKA_BROKERS` when given, otherwise a
 * broker of its own started with scripts/kafka-broker.sh on `port` (never
 * 19092: CI's) and stopped by the run's cleanup.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { onCleanup, progress, repoRoot, runCommand } from "./run.ts"

export interface Broker {
  readonly brokers: Array<string>
  /** True when this run started it (and will stop it). */
  readonly started: boolean
  /** The broker's JVM, when this run started it (for CPU accounting). */
  readonly pid: number | undefined
}

/** The pid of the broker kafka-broker.sh runs on `port`, from its pid file. */
export const ownBrokerPid = (port: number): number | undefined => {
  try {
    const cacheDir = process.env["KAFKA_CACHE_DIR"] || join(repoRoot, ".cache")
    const pid = Number(readFileSync(join(cacheDir, "kafka-run", `port-${port}`, "broker.pid"), "utf8").trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

export const kafkaBroker = async (given: string, port: number): Promise<Broker> => {
  if (given.trim() !== "") {
    return { brokers: given.split(",").map((s) => s.trim()).filter((s) => s !== ""), started: false, pid: undefined }
  }
  const env = { ...process.env, KAFKA_PORT: String(port) }
  const script = join(repoRoot, "scripts", "kafka-broker.sh")
  await runCommand(script, ["fetch"], env, 300_000)
  progress(`starting a Kafka broker on 127.0.0.1:${port}`)
  // Registered first: a start that fails half-way still leaves a process and a data dir behind.
  onCleanup("stop the Kafka broker", () => runCommand(script, ["stop"], env, 60_000))
  const out = await runCommand(script, ["start"], env, 150_000)
  const line = /^KAFKA_BROKERS=(.+)$/m.exec(out)
  if (!line) throw new Error(`kafka-broker.sh start printed no KAFKA_BROKERS line:\n${out}`)
  return { brokers: line[1]!.trim().split(","), started: true, pid: ownBrokerPid(port) }
}
