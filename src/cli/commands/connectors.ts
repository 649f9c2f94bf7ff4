import { Args, Command, Options } from "@effect/cli"
import { Console, DateTime, Effect, Option, Schema } from "effect"
import { ConfigId, ConnectorConfig, SyncLogEntry } from "../../domain/connectors/models.ts"
import { PollResult } from "../../domain/api/ConnectorsApi.ts"
import {
  clientOptions,
  CliError,
  type ClientOptions,
  decodeInput,
  decodeStore,
  makeAdminClient,
  printJson,
  runCommand,
  storeOption
} from "../client.ts"
import { connectorRunsCommands } from "./connectorRuns.ts"
import { type Column, formatFields, formatTable, formatTime, orDash, truncate } from "../format.ts"

const decodeConfigId = (value: string) => decodeInput("connector id", ConfigId, value, "a UUID")

const configIdArg = Args.text({ name: "id" }).pipe(Args.withDescription("The connector config id."))

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

const ConnectorList = Schema.Struct({ items: Schema.Array(ConnectorConfig) })

export interface ListConnectorsInput extends ClientOptions {
  readonly store: string
}

export const listConnectors = (input: ListConnectorsInput) =>
  Effect.gen(function*() {
    const storeId = yield* decodeStore(input.store)
    const client = yield* makeAdminClient(input)
    const list = yield* client.connectors.list({ path: { storeId } })
    if (input.json) return yield* printJson(Schema.encodeSync(ConnectorList)(list))
    yield* Console.log(list.items.length === 0 ? "no connectors" : formatTable(connectorColumns, list.items))
  })

const listCommand = Command.make(
  "list",
  { ...clientOptions, store: storeOption },
  (input) => runCommand(listConnectors(input))
).pipe(Command.withDescription("List a store's connector configs (their credentials are never shown)."))

// ---------------------------------------------------------------------------------------------
// connectors poll

export interface PollConnectorInput extends ClientOptions {
  readonly id: string
  readonly store: string
}

/** One poll now; a FAILED run is printed like a successful one and sets exit status 1. */
export const pollConnector = (input: PollConnectorInput) =>
  Effect.gen(function*() {
    const storeId = yield* decodeStore(input.store)
    const id = yield* decodeConfigId(input.id)
    const client = yield* makeAdminClient(input)
    const result = yield* client.connectors.poll({ path: { storeId, id } })
    if (input.json) {
      yield* printJson(Schema.encodeSync(PollResult)(result))
    } else {
      yield* Console.log(formatFields([
        ["status", result.status],
        ["records", String(result.recordCount)],
        ...(result.error === null ? [] : [["error", result.error] as const])
      ]))
    }
    if (result.status === "FAILED") {
      yield* Effect.sync(() => {
        process.exitCode = 1
      })
    }
  })

const pollCommand = Command.make(
  "poll",
  { ...clientOptions, id: configIdArg, store: storeOption },
  (input) => runCommand(pollConnector(input))
).pipe(
  Command.withDescription(
    "Poll the marketplace now for one connector (inbound sync, once): prints the run's status and how many " +
      "records it imported (published to connector.order.imported). Exit status 1 when the run FAILED; " +
      "the API answers 409 while another instance is polling that connector."
  )
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
  { header: "STATUS", value: (e) => e.status },
  { header: "DURATION", value: duration, align: "right" },
  { header: "ERROR", value: (e) => orDash(e.errorSummary === null ? null : truncate(e.errorSummary, 80)) }
]

const SyncLog = Schema.Struct({ items: Schema.Array(SyncLogEntry) })

export interface ConnectorLogInput extends ClientOptions {
  readonly id: string
  readonly store: string
  readonly limit: Option.Option<number>
}

export const connectorLog = (input: ConnectorLogInput) =>
  Effect.gen(function*() {
    const storeId = yield* decodeStore(input.store)
    const id = yield* decodeConfigId(input.id)
    if (Option.isSome(input.limit) && (input.limit.value < 1 || input.limit.value > 500)) {
      return yield* new CliError({ message: `--limit ${input.limit.value} is invalid: expected 1 to 500` })
    }
    const client = yield* makeAdminClient(input)
    const log = yield* client.connectors.syncLog({
      path: { storeId, id },
      urlParams: Option.match(input.limit, { onNone: () => ({}), onSome: (limit) => ({ limit }) })
    })
    if (input.json) return yield* printJson(Schema.encodeSync(SyncLog)(log))
    yield* Console.log(log.items.length === 0 ? "no runs yet" : formatTable(syncLogColumns, log.items))
  })

const logCommand = Command.make(
  "log",
  {
    ...clientOptions,
    id: configIdArg,
    store: storeOption,
    limit: Options.integer("limit").pipe(
      Options.optional,
      Options.withDescription("How many runs, newest first: 1 to 500 (the server's default, 100, when omitted).")
    )
  },
  (input) => runCommand(connectorLog(input))
).pipe(
  Command.withDescription(
    "Show a connector's sync log, newest first: every run, inbound (polls) and outbound (events), with its status, " +
      "record count and error summary."
  )
)

export const connectorsCommand = Command.make("connectors").pipe(
  Command.withDescription(
    "Inspect marketplace connectors, poll one now, read its sync log, list and re-trigger its runs (through the admin API at --url)."
  ),
  Command.withSubcommands([listCommand, pollCommand, logCommand, ...connectorRunsCommands])
)
