import { Args, Command, Options } from "@effect/cli"
import { Console, DateTime, Effect, Option, Schema } from "effect"
import { ConfigId, type ConnectorRun, ConnectorRunPage } from "../../domain/connectors/models.ts"
import { DeliveryStatus } from "../../domain/webhooks/models.ts"
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
import { type Column, formatTable, formatTime } from "../format.ts"

const decodeConfigId = (value: string) => decodeInput("--connector", ConfigId, value, "a connector config id (UUID)")
const decodeRunId = (value: string) => decodeInput("run id", Schema.UUID, value, "a UUID")
const connectorOption = Options.text("connector").pipe(Options.withAlias("c"), Options.withDescription("The connector config id."))

export const runColumns: ReadonlyArray<Column<ConnectorRun>> = [
  { header: "ID", value: (r) => r.id },
  { header: "STATUS", value: (r) => r.status },
  { header: "EVENT TYPE", value: (r) => r.eventType },
  { header: "ATTEMPTS", value: (r) => String(r.attemptNumber), align: "right" },
  { header: "NEXT RETRY", value: (r) => formatTime(r.nextRetryAt) },
  { header: "CREATED", value: (r) => formatTime(r.createdAt) }
]

export interface ListRunsInput extends ClientOptions {
  readonly store: string
  readonly connector: string
  readonly status: Option.Option<DeliveryStatus>
  readonly cursor: Option.Option<string>
}

export const listRuns = (input: ListRunsInput) =>
  Effect.gen(function*() {
    const storeId = yield* decodeStore(input.store)
    const id = yield* decodeConfigId(input.connector)
    const client = yield* makeAdminClient(input)
    const page = yield* client.connectorRuns.list({
      path: { storeId, id },
      urlParams: {
        ...Option.match(input.status, { onNone: () => ({}), onSome: (status) => ({ status }) }),
        ...Option.match(input.cursor, { onNone: () => ({}), onSome: (cursor) => ({ cursor }) })
      }
    })
    if (input.json) return yield* printJson(Schema.encodeSync(ConnectorRunPage)(page))
    yield* Console.log(page.items.length === 0 ? "no runs" : formatTable(runColumns, page.items))
    if (page.nextCursor !== null) yield* Console.log(`\nmore: --cursor ${page.nextCursor}`)
  })

const runsCommand = Command.make(
  "runs",
  {
    ...clientOptions,
    store: storeOption,
    connector: connectorOption,
    status: Options.choice("status", DeliveryStatus.literals).pipe(
      Options.optional,
      Options.withDescription("Only runs in this status (DEAD_LETTERED: the dead letters).")
    ),
    cursor: Options.text("cursor").pipe(Options.optional, Options.withDescription("The next page (printed after a full page)."))
  },
  (input) => runCommand(listRuns(input))
).pipe(Command.withDescription("List a connector's outbound runs of platform events, newest first."))

export interface RetryRunsInput extends ClientOptions {
  readonly store: string
  readonly connector: string
  readonly run: Option.Option<string>
  readonly status: "DEAD_LETTERED" | "FAILED"
  readonly since: Option.Option<string>
}

export const retryRuns = (input: RetryRunsInput) =>
  Effect.gen(function*() {
    const storeId = yield* decodeStore(input.store)
    const id = yield* decodeConfigId(input.connector)
    const client = yield* makeAdminClient(input)
    if (Option.isSome(input.run)) {
      const runId = yield* decodeRunId(input.run.value)
      const run = yield* client.connectorRuns.retry({ path: { storeId, id, runId } })
      return yield* input.json ? printJson({ id: run.id, status: run.status }) : Console.log(`re-triggered run ${run.id}`)
    }
    const since = yield* Effect.transposeOption(Option.map(input.since, (text) =>
      Option.match(DateTime.make(text), {
        onNone: () => Effect.fail(new CliError({ message: `--since ${JSON.stringify(text)} is invalid: expected an ISO-8601 time` })),
        onSome: (dt) => Effect.succeed(DateTime.toUtc(dt))
      })))
    const result = yield* client.connectorRuns.retryMany({
      path: { storeId, id },
      payload: { status: input.status, ...Option.match(since, { onNone: () => ({}), onSome: (s) => ({ since: s }) }) }
    })
    yield* input.json
      ? printJson(result)
      : Console.log(`re-triggered ${result.retried} ${result.retried === 1 ? "run" : "runs"}`)
  })

const retryCommand = Command.make(
  "retry",
  {
    ...clientOptions,
    store: storeOption,
    connector: connectorOption,
    run: Args.text({ name: "run-id" }).pipe(Args.optional, Args.withDescription("One run; without it, every run matching --status/--since.")),
    status: Options.choice("status", ["DEAD_LETTERED", "FAILED"] as const).pipe(
      Options.withDefault("DEAD_LETTERED" as const),
      Options.withDescription("Bulk replay: runs in this status (default DEAD_LETTERED).")
    ),
    since: Options.text("since").pipe(Options.optional, Options.withDescription("Bulk replay: runs created at or after this ISO-8601 time."))
  },
  (input) => runCommand(retryRuns(input))
).pipe(Command.withDescription("Re-trigger a connector's failed or dead-lettered run (one, or in bulk): now, then the retry table."))

export const connectorRunsCommands = [runsCommand, retryCommand] as const
