/**
 * integration-service end to end, as `serve` runs it: `node bin/integration-service.mjs
 * serve` in a child process (MainLive on live infrastructure: PostgreSQL, Kafka,
 * undici), its settings from the environment and a Vault KV double in another
 * process, insecure targets allowed (the receiver is http://127.0.0.1). Events
 * go in on Kafka, deliveries come out at the receiver; subscriptions are made
 * through the admin API and the ledger reads webhook_deliveries and the consumer
 * group's committed offsets — nothing inside the service is touched.
 */
import { spawn } from "node:child_process"
import { closeSync, openSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Kafka as KafkaJs, logLevel, Partitioners } from "kafkajs"
import pg from "pg"
import type { Broker } from "../../support/broker.ts"
import { commandLine } from "../../support/cpu.ts"
import { createDatabase } from "../../support/database.ts"
import { cleanupScope, progress, repoRoot, sleep, wallNow, withTimeout } from "../../support/run.ts"
import { startVaultDouble } from "../../support/vaultDouble.ts"
import { eventType, type Scenario, scenarios, storeOf } from "../scenarios.ts"
import { settings } from "../settings.ts"
import { describe, type SystemUnderTest } from "./types.ts"

/** SPEC: one consumer group, `integration-service`. */
const groupId = "integration-service"
const adminToken = "bench-peers-admin-token-0123456789ab"
const partitions = 3

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

export const startService = async (runId: number, receiverUrl: string, broker: Broker): Promise<SystemUnderTest & { notes: Array<string> }> => {
  const scope = cleanupScope()
  const notes: Array<string> = []
  const databaseName = `is_peers_${runId}_service`
  const databaseUrl = await createDatabase(settings.adminDatabaseUrl, databaseName, scope)
  const vault = await startVaultDouble(scope)

  // Every topic exists before the service subscribes (a new one would be seen only at its next refresh).
  const topicOf = (scenario: Scenario) => `bench.peers.${runId}.${scenario.key}`
  const kafka = new KafkaJs({ clientId: `is-peers-bench-${runId}`, brokers: broker.brokers, logLevel: logLevel.ERROR })
  const admin = kafka.admin()
  await admin.connect()
  scope.add("Kafka admin", async () => {
    if (!broker.started) await admin.deleteTopics({ topics: scenarios.map(topicOf) }).catch(() => undefined)
    await admin.disconnect()
  })
  await admin.createTopics({ topics: scenarios.map((s) => ({ topic: topicOf(s), numPartitions: partitions })), waitForLeaders: true })
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
  await producer.connect()
  scope.add("Kafka producer", () => producer.disconnect())

  // The service, as an operator starts it.
  const port = await freePort()
  // Its JSON log goes to a file: removed at the end unless BENCH_SERVICE_LOG names where to keep it.
  const keptLog = process.env["BENCH_SERVICE_LOG"]
  const logFile = keptLog || join(tmpdir(), `is-peers-${runId}-service.log`)
  const log = openSync(logFile, "w")
  if (!keptLog) scope.add("service log", async () => rmSync(logFile, { force: true }))
  // BENCH_SERVICE_CPU_PROF=<dir>: the service writes a V8 CPU profile there when it exits (for `--cpu-prof` reading).
  const profileDir = process.env["BENCH_SERVICE_CPU_PROF"]
  const nodeArgs = [...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), ...(process.env["BENCH_SERVICE_NODE_ARGS"]?.split(" ").filter(Boolean) ?? [])]
  const child = spawn(process.execPath, [...nodeArgs, join(repoRoot, "bin", "integration-service.mjs"), "serve"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      VAULT_ADDR: vault.address,
      VAULT_TOKEN: vault.token,
      VAULT_KV_MOUNT: vault.mount,
      DATABASE_URL: databaseUrl,
      KAFKA_BROKERS: broker.brokers.join(","),
      KAFKA_EVENT_TOPICS: `^bench\\.peers\\.${runId}\\.`,
      PORT: String(port),
      ADMIN_TOKEN: adminToken,
      WEBHOOK_ALLOW_INSECURE_TARGETS: "true",
      WEBHOOK_TIMEOUT_MS: String(settings.timeoutMs)
    },
    stdio: ["ignore", log, log]
  })
  closeSync(log)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  scope.add("the service (SIGTERM)", async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill("SIGTERM")
    await withTimeout("service shutdown", 30_000, exited).catch(() => child.kill("SIGKILL"))
  })
  const logTail = () => readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n")
  const baseUrl = `http://127.0.0.1:${port}`
  const started = wallNow()
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}) on start-up:\n${logTail()}`)
    const ready = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(5_000) }).then(
      async (r) => (await r.text(), r.status === 200),
      () => false
    )
    if (ready) break
    if (wallNow() - started > 120_000) throw new Error(`the service was not ready within 120 s:\n${logTail()}`)
    await sleep(250)
  }
  progress(`service ready in ${((wallNow() - started) / 1000).toFixed(1)} s (pid ${child.pid}, ${baseUrl})`)

  const subscribe = async (storeId: string, i: number, events: ReadonlyArray<string>) => {
    const res = await fetch(`${baseUrl}/stores/${storeId}/webhooks`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      // maxInFlight as many as a peer's workers (BENCH_SERVICE_MAX_IN_FLIGHT, default 64): the service's default of
      // 10 per endpoint protects other receivers from a slow one, and would cap a one-endpoint burst below the peers'.
      body: JSON.stringify({
        name: `bench ${i}`,
        targetUrl: `${receiverUrl}/hooks/${storeId}/${i}`,
        events,
        maxInFlight: settings.serviceMaxInFlight
      }),
      signal: AbortSignal.timeout(30_000)
    })
    if (res.status !== 201) throw new Error(`creating a subscription: HTTP ${res.status} ${await res.text()}`)
  }
  // Subscription 1 of the store takes every scenario's events; 2..fanout only the fan-out burst's.
  const narrow = scenarios.filter((s) => !s.serviceOnly)
  for (let i = 1; i <= settings.fanout; i++) {
    const events = narrow.filter((s) => i <= s.fanout).map(eventType)
    if (events.length > 0) await subscribe(storeOf(narrow[0]!), i, events)
  }

  const db = new pg.Client({ connectionString: databaseUrl })
  await db.connect()
  scope.add("observer connection", () => db.end())

  /** Events produced to the scenario's topic that the service has not committed yet. */
  const uncommitted = async (scenario: Scenario) => {
    const topic = topicOf(scenario)
    // A broker just started may still be moving the group's coordinator: ask again (retriable errors only).
    const read = async (attempt: number): Promise<[Awaited<ReturnType<typeof admin.fetchTopicOffsets>>, Awaited<ReturnType<typeof admin.fetchOffsets>>]> => {
      try {
        return await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })])
      } catch (e) {
        if (attempt >= 20 || !(e as { retriable?: boolean }).retriable) throw e
        await sleep(500)
        return read(attempt + 1)
      }
    }
    const [ends, committed] = await read(1)
    const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
    return ends.reduce((sum, p) => {
      const at = done.get(p.partition) ?? -1
      return sum + Number(p.high) - (at < 0 ? Number(p.low) : at)
    }, 0)
  }

  return {
    name: "integration-service",
    config: `serve (MainLive, default settings; subscriptions with maxInFlight ${settings.serviceMaxInFlight}), PostgreSQL, Kafka (${partitions} partitions, keyed by store), Vault KV double`,
    workerPid: child.pid!,
    notes,
    // Its database's backends, the broker, the Vault double (the receiver is no one's store).
    isStore: (pid, comm) =>
      pid === broker.pid || pid === vault.pid || (comm === "postgres" && commandLine(pid).includes(` ${databaseName} `)),
    supports: () => true,
    begin: async (scenario) => {
      if (!scenario.serviceOnly) return
      const t = wallNow()
      let next = 1
      const lane = async () => {
        while (next <= scenario.fanout) await subscribe(storeOf(scenario), next++, [eventType(scenario)])
      }
      await Promise.all(Array.from({ length: 16 }, lane))
      const seconds = (wallNow() - t) / 1000
      notes.push(`${scenario.fanout} subscriptions of ${storeOf(scenario)} created through the admin API in ${seconds.toFixed(1)} s (before the event)`)
      progress(notes[notes.length - 1]!)
    },
    produce: async (scenario, events) => {
      await producer.send({
        topic: topicOf(scenario),
        acks: -1,
        messages: events.map((e) => ({ key: e.storeId, value: JSON.stringify(e) }))
      })
    },
    counts: async (scenario) => {
      const [rows, lag] = await Promise.all([
        db.query<{ status: string; n: number }>(
          "SELECT status::text, count(*)::int AS n FROM webhook_deliveries WHERE event_type = $1 GROUP BY 1",
          [eventType(scenario)]
        ),
        uncommitted(scenario)
      ])
      const c: Record<string, number> = Object.fromEntries(rows.rows.map((r) => [r.status, r.n]))
      const n = (k: string) => c[k] ?? 0
      return {
        delivered: n("DELIVERED"),
        pending: n("PENDING") + n("FAILED") + lag * scenario.fanout,
        failed: n("DEAD_LETTERED"),
        detail: `${describe(c)}; events not committed ${lag}`
      }
    },
    owns: async (scenario) => {
      const rows = await db.query<{ id: string }>(
        "SELECT delivery_id::text AS id FROM webhook_deliveries WHERE event_type = $1",
        [eventType(scenario)]
      )
      const ids = new Set(rows.rows.map((r) => r.id))
      return (id) => ids.has(id)
    },
    breakdown: async (scenario) => {
      const { rows } = await db.query<Record<string, number | null>>(
        `WITH d AS (
           SELECT extract(epoch FROM created_at) * 1000 - (event_payload->'data'->>'sentAt')::float8 AS to_row,
                  extract(epoch FROM first.started_at - created_at) * 1000 AS to_attempt,
                  extract(epoch FROM delivered_at - created_at) * 1000 AS to_delivered
           FROM webhook_deliveries wd CROSS JOIN LATERAL (
             SELECT min(a.started_at) AS started_at FROM webhook_delivery_attempts a WHERE a.delivery_id = wd.delivery_id
           ) first
           WHERE event_type = $1)
         SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY to_row) AS row50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY to_row) AS row99,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY to_attempt) AS att50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY to_attempt) AS att99,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY to_delivered) AS del50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY to_delivered) AS del99
         FROM d`,
        [eventType(scenario)]
      )
      const r = rows[0] ?? {}
      const ms = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : `${Math.round(v)}`)
      return `produce → delivery row p50 ${ms(r["row50"])} / p99 ${ms(r["row99"])} ms; ` +
        `row → first attempt p50 ${ms(r["att50"])} / p99 ${ms(r["att99"])} ms; ` +
        `row → recorded DELIVERED p50 ${ms(r["del50"])} / p99 ${ms(r["del99"])} ms`
    },
    end: async () => {},
    close: scope.close
  }
}
