import { Args } from "@effect/cli"
import { Console, DateTime, Effect, Schema } from "effect"
import { ConfigId, ConnectorConfig, SyncLogEntry } from "../../domain/connectors/models.ts"
import { PollResult } from "../../domain/api/ConnectorsApi.ts"
import { makeAdminClient } from "../client.ts"
import { setExitFailure } from "../failures.ts"
import {
  checkInteger, clientCommand, commandGroup, decodeInput, decodeStore, given, optionalInteger, storeOption
} from "../options.ts"
import { storeListCommand } from "../commandKit.ts"
import {
  type Column, formatFields, formatTable, formatTime, orDash, paintStatus, printJson, truncate
} from "../format.ts"
import {
  createConnectorCommand,
  credentialsConnectorCommand,
  deleteConnectorCommand,
  updateConnectorCommand
} from "./connectorConfigs.ts"
import { connectorRunsCommands } from "./connectorRuns.ts"
import { connectorTypesCommand } from "./connectorTypes.ts"

const configIdArg = Args.text({ name: "id" }).pipe(Args.withDescription("The connector config id."))
const idOf = (input: { readonly store: string; readonly id: string }) =>
  Effect.all({ storeId: decodeStore(input.store), id: decodeInput("connector id", ConfigId, input.id, "a UUID") })

// ---------------------------------------------------------------------------------------------
// connectors list

const pollInterval = (config: ConnectorConfig) => {
  const seconds = config.settings["pollIntervalSeconds"]
  return typeof seconds === "number" ? `${seconds} s` : "-"
}

export const connectorColumns: ReadonlyArray<Column<ConnectorConfig>> = [
  { header: "ID", value: (c) => c.id },
  { header: "TYPE", value: (c) => c.connectorType },
  { header: "NAME", value: (c) => truncate(c.displayName, 40) },
  { header: "ACTIVE", value: (c) => (c.isActive ? "yes" : "no") },
  { header: "CREDENTIALS", value: (c) => (c.hasCredentials ? "yes" : "no") },
  { header: "EVENTS", value: (c) => truncate(c.eventSubscriptions.join(","), 60) || "-" },
  { header: "POLL", value: pollInterval, align: "right" },
  { header: "UPDATED", value: (c) => formatTime(c.updatedAt) }
]

const listCommand = storeListCommand({
  things: "connectors",
  item: ConnectorConfig,
  columns: connectorColumns,
  list: (client, storeId) => client.connectors.list({ path: { storeId } }),
  help: {
    description: "List a store's connector configs (their credentials are never shown).",
    examples: ["connectors list --store store-1"]
  }
})

// ---------------------------------------------------------------------------------------------
// connectors poll

const pollCommand = clientCommand(
  "poll",
  { id: configIdArg, store: storeOption },
  (input) =>
    Effect.gen(function*() {
      const path = yield* idOf(input)
      const client = yield* makeAdminClient(input)
      const result = yield* client.connectors.poll({ path })
      if (input.json) {
        yield* printJson(Schema.encodeSync(PollResult)(result))
      } else {
        yield* Console.log(formatFields([
          ["status", result.status],
          ["records", String(result.recordCount)],
          ...(result.error === null ? [] : [["error", result.error] as const])
        ]))
      }
      // A FAILED run is printed like a successful one, and the exit status says it failed.
      if (result.status === "FAILED") yield* setExitFailure
    }),
  {
    description: "Poll the marketplace now for one connector (inbound sync, once): prints the run's status and how many " +
      "records it imported (published to connector.order.imported). Exit status 1 when the run FAILED; " +
      "the API answers 409 while another instance is polling that connector.",
    examples: ["connectors poll 3f0c2a4e-8b1d-4c5e-9f7a-2b6d8e0c1a3f --store store-1"]
  }
)

// ---------------------------------------------------------------------------------------------
// connectors log

const duration = (entry: SyncLogEntry) =>
  entry.finishedAt === null
    ? "-"
    : `${Math.max(0, DateTime.toEpochMillis(entry.finishedAt) - DateTime.toEpochMillis(entry.startedAt))} ms`

export const syncLogColumns: ReadonlyArray<Column<SyncLogEntry>> = [
  { header: "STARTED", value: (e) => formatTime(e.startedAt) },
  { header: "DIRECTION", value: (e) => e.direction },
  { header: "ENTITY", value: (e) => e.entityType },
  { header: "RECORDS", value: (e) => String(e.recordCount), align: "right" },
  { header: "STATUS", value: (e) => e.status, colour: paintStatus },
  { header: "DURATION", value: duration, align: "right" },
  { header: "ERROR", value: (e) => orDash(e.errorSummary === null ? null : truncate(e.errorSummary, 80)) }
]

const SyncLog = Schema.Struct({ items: Schema.Array(SyncLogEntry) })

const logCommand = clientCommand(
  "log",
  {
    id: configIdArg,
    store: storeOption,
    limit: optionalInteger("limit", "How many runs, newest first: 1 to 500 (the server's default, 100, when omitted).")
  },
  (input) =>
    Effect.gen(function*() {
      const path = yield* idOf(input)
      const limit = yield* checkInteger("--limit", input.limit, 1, 500)
      const client = yield* makeAdminClient(input)
      const log = yield* client.connectors.syncLog({ path, urlParams: given({ limit }) })
      if (input.json) return yield* printJson(Schema.encodeSync(SyncLog)(log))
      yield* Console.log(log.items.length === 0 ? "no runs yet" : formatTable(syncLogColumns, log.items))
    }),
  {
    description: "Show a connector's sync log, newest first: every run, inbound (polls) and outbound (events), with its " +
      "status, record count and error summary.",
    examples: ["connectors log 3f0c2a4e-8b1d-4c5e-9f7a-2b6d8e0c1a3f --store store-1 --limit 20"]
  }
)

export const connectorsCommand = commandGroup(
  "connectors",
  "Configure marketplace connectors and their credentials, poll one now, read its sync log, list and re-trigger its " +
    "runs (through the admin API at --url).",
  [
    listCommand,
    connectorTypesCommand,
    createConnectorCommand,
    updateConnectorCommand,
    deleteConnectorCommand,
    credentialsConnectorCommand,
    pollCommand,
    logCommand,
    ...connectorRunsCommands
  ]
)
