import { Console, DateTime, Effect, Schema } from "effect"
import { ConfigId, ConnectorConfig, SyncLogEntry } from "../../domain/connectors/models.ts"
import { PollResult } from "../../domain/api/ConnectorsApi.ts"
import { makeAdminClient } from "../client.ts"
import { setExitFailure } from "../failures.ts"
import { checkInteger, commandGroup, given, optionalInteger } from "../options.ts"
import { recordCallCommand, recordCommand, storeListCommand, storeRecord } from "../commandKit.ts"
import {
  type Column, formatFields, formatTable, formatTime, idColumn, orDash, paintStatus, printJson, truncate, updatedColumn
} from "../format.ts"
import {
  createConnectorCommand,
  credentialsConnectorCommand,
  deleteConnectorCommand,
  updateConnectorCommand
} from "./connectorConfigs.ts"
import { connectorRunsCommands } from "./connectorRuns.ts"
import { connectorTypesCommand } from "./connectorTypes.ts"

const configRecord = storeRecord("connector id", ConfigId, "The connector config id.")

// ---------------------------------------------------------------------------------------------
// connectors list

const pollInterval = (config: ConnectorConfig) => {
  const seconds = config.settings["pollIntervalSeconds"]
  return typeof seconds === "number" ? `${seconds} s` : "-"
}

export const connectorColumns: ReadonlyArray<Column<ConnectorConfig>> = [
  idColumn,
  { header: "TYPE", value: (c) => c.connectorType },
  { header: "NAME", value: (c) => truncate(c.displayName, 40) },
  { header: "ACTIVE", value: (c) => (c.isActive ? "yes" : "no") },
  { header: "CREDENTIALS", value: (c) => (c.hasCredentials ? "yes" : "no") },
  { header: "EVENTS", value: (c) => truncate(c.eventSubscriptions.join(","), 60) || "-" },
  { header: "POLL", value: pollInterval, align: "right" },
  updatedColumn
]

const listCommand = storeListCommand({
  group: "connectors",
  things: "connectors",
  item: ConnectorConfig,
  columns: connectorColumns,
  help: {
    description: "List a store's connector configs (their credentials are never shown).",
    examples: ["connectors list --store store-1"]
  }
})

// ---------------------------------------------------------------------------------------------
// connectors poll

const pollCommand = recordCallCommand(configRecord, "poll", {
  call: (client, path) => client.connectors.poll({ path }),
  answer: PollResult,
  text: (result) =>
    formatFields([
      ["status", result.status],
      ["records", String(result.recordCount)],
      ...(result.error === null ? [] : [["error", result.error] as const])
    ]),
  // A FAILED run is printed like a successful one, and the exit status says it failed.
  after: (result) => result.status === "FAILED" ? setExitFailure : Effect.void,
  help: {
    description: "Poll the marketplace now for one connector (inbound sync, once): prints the run's status and how many " +
      "records it imported (published to connector.order.imported). Exit status 1 when the run FAILED; " +
      "the API answers 409 while another instance is polling that connector.",
    examples: ["connectors poll 3f0c2a4e-8b1d-4c5e-9f7a-2b6d8e0c1a3f --store store-1"]
  }
})

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

const logCommand = recordCommand(
  configRecord,
  "log",
  {
    limit: optionalInteger("limit", "How many runs, newest first: 1 to 500 (the server's default, 100, when omitted).")
  },
  (input, path) =>
    Effect.gen(function*() {
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
