import { Clock, Console, Effect, Schema } from "effect"
import { ServiceStatus } from "../../domain/api/OpsApi.ts"
import { makeAdminClient } from "../client.ts"
import { describeFailure, setExitFailure } from "../failures.ts"
import { clientCommand } from "../options.ts"
import { formatFields, formatTime, paint, paintStatus, plural, printJson } from "../format.ts"
import { resolveBaseUrl } from "../target.ts"

type Lanes = NonNullable<ServiceStatus["backlog"]>

const backlogLine = (lanes: Lanes) =>
  (["webhooks", "connectors"] as const)
    .map((lane) => `${lane} ${lanes[lane].pending} pending, ${lanes[lane].failed} failed`)
    .join("; ")

const oldestDue = (lanes: Lanes) => {
  const due = (["webhooks", "connectors"] as const).flatMap((lane) =>
    lanes[lane].oldestDueAt === null ? [] : [{ lane, at: lanes[lane].oldestDueAt! }]
  )
  if (due.length === 0) return "none due"
  return due.map((d) => `${formatTime(d.at)} (${d.lane})`).join(", ")
}

const deadLetters = (lanes: Lanes) => {
  const total = lanes.webhooks.deadLetteredLast24h + lanes.connectors.deadLetteredLast24h
  const text = `${plural(total, "dead letter")} in the last 24 h (webhooks ${lanes.webhooks.deadLetteredLast24h}, ` +
    `connectors ${lanes.connectors.deadLetteredLast24h})`
  return total === 0 ? text : paint("red", text)
}

export const formatStatus = (baseUrl: string, latencyMs: number, status: ServiceStatus) => {
  const { checks } = status
  return formatFields([
    ["service", `${baseUrl}  reachable (${latencyMs} ms), ${status.mode} mode`],
    ["database", paintStatus(checks.database)],
    checks.eventBus !== undefined
      ? ["event bus", `${checks.eventBus} (dev mode: no Kafka)`]
      : ["kafka", paintStatus(checks.kafka ?? "unavailable")],
    ["secret store", `${checks.secretStore.kind === "vault" ? "Vault" : "files (dev mode)"} ${paintStatus(checks.secretStore.state)}`],
    ...(status.backlog === null
      ? [["backlog", "unknown while the database is unreachable"] as const]
      : [
        ["backlog", backlogLine(status.backlog)] as const,
        ["oldest due retry", oldestDue(status.backlog)] as const,
        ["dead letters", deadLetters(status.backlog)] as const
      ])
  ])
}

const healthy = (status: ServiceStatus) =>
  status.checks.database === "ok" && status.checks.kafka !== "unavailable" && status.checks.secretStore.state === "ok"

/** Exit status 1 when the service is unreachable or a dependency is down: usable in scripts. */
export const statusCommand = clientCommand(
  "status",
  {},
  (input) =>
    Effect.gen(function*() {
      const { baseUrl } = yield* resolveBaseUrl(input.url)
      const client = yield* makeAdminClient(input)
      const started = yield* Clock.currentTimeMillis
      const reachable = yield* Effect.either(client.health.healthz())
      const latencyMs = (yield* Clock.currentTimeMillis) - started
      if (reachable._tag === "Left") {
        if (input.json) yield* printJson({ url: baseUrl, reachable: false, error: describeFailure(reachable.left) })
        else yield* Console.log(formatFields([["service", `${baseUrl}  ${paint("red", "unreachable")}: ${describeFailure(reachable.left)}`]]))
        return yield* setExitFailure
      }
      const status = yield* client.ops.status()
      if (input.json) {
        yield* printJson({ url: baseUrl, reachable: true, latencyMs, ...Schema.encodeSync(ServiceStatus)(status) })
      } else {
        yield* Console.log(formatStatus(baseUrl, latencyMs, status))
      }
      if (!healthy(status)) yield* setExitFailure
    }),
  {
    description: "On-call's first look: is the service reachable, are its database, Kafka (or dev mode's bus) and secret " +
      "store up, how much is waiting (across every store), the oldest retry that is due, and dead letters in the last " +
      "24 hours. Exit status 1 when it is unreachable or something is down.",
    examples: ["status", "status --url https://integration.internal.example.com --json"]
  }
)
