import { Args, Options } from "@effect/cli"
import { Console, Effect, Option, Schema } from "effect"
import { ConfigId, type ConnectorRun, ConnectorRunPage } from "../../domain/connectors/models.ts"
import { DeliveryStatus } from "../../domain/webhooks/models.ts"
import { makeAdminClient } from "../client.ts"
import {
  clientCommand, decodeInput, decodeSince, decodeStore, decodeUuid, given, optionalText, refuseWith,
  sinceOption, storeOption
} from "../options.ts"
import { type Column, formatTable, plural, printJson } from "../format.ts"
import { attemptedColumns } from "./deliveries.ts"

const decodeConfigId = (value: string) => decodeInput("--connector", ConfigId, value, "a connector config id (UUID)")
const connectorOption = Options.text("connector").pipe(Options.withAlias("c"), Options.withDescription("The connector config id."))
const pathOf = (input: { readonly store: string; readonly connector: string }) =>
  Effect.all({ storeId: decodeStore(input.store), id: decodeConfigId(input.connector) })

export const runColumns: ReadonlyArray<Column<ConnectorRun>> = attemptedColumns([])

const runsCommand = clientCommand(
  "runs",
  {
    store: storeOption,
    connector: connectorOption,
    status: Options.choice("status", DeliveryStatus.literals).pipe(
      Options.optional,
      Options.withDescription("Only runs in this status (DEAD_LETTERED: the dead letters).")
    ),
    cursor: optionalText("cursor", "The next page (printed after a full page).")
  },
  (input) =>
    Effect.gen(function*() {
      const path = yield* pathOf(input)
      const client = yield* makeAdminClient(input)
      const page = yield* client.connectorRuns.list({ path, urlParams: given({ status: input.status, cursor: input.cursor }) })
      if (input.json) return yield* printJson(Schema.encodeSync(ConnectorRunPage)(page))
      yield* Console.log(page.items.length === 0 ? "no runs" : formatTable(runColumns, page.items))
      if (page.nextCursor !== null) yield* Console.log(`\nmore: --cursor ${page.nextCursor}`)
    }),
  {
    description: "List a connector's outbound runs of platform events, newest first.",
    examples: ["connectors runs --store store-1 --connector 3f0c2a4e-8b1d-4c5e-9f7a-2b6d8e0c1a3f --status DEAD_LETTERED"]
  }
)

const retryCommand = clientCommand(
  "retry",
  {
    store: storeOption,
    connector: connectorOption,
    run: Args.text({ name: "run-id" }).pipe(Args.optional, Args.withDescription("One run; without it, every run matching --status/--since.")),
    status: Options.choice("status", ["DEAD_LETTERED", "FAILED"] as const).pipe(
      Options.optional,
      Options.withDescription("Bulk replay: runs in this status (default DEAD_LETTERED).")
    ),
    since: sinceOption("Bulk replay: runs created at or after this ISO-8601 time.")
  },
  (input) =>
    Effect.gen(function*() {
      const path = yield* pathOf(input)
      if (Option.isSome(input.run)) {
        yield* refuseWith("a run id (they select runs for a bulk replay)", { "--status": input.status, "--since": input.since })
        const runId = yield* decodeUuid("run id", input.run.value)
        const client = yield* makeAdminClient(input)
        const run = yield* client.connectorRuns.retry({ path: { ...path, runId } })
        return yield* input.json ? printJson({ id: run.id, status: run.status }) : Console.log(`re-triggered run ${run.id}`)
      }
      const since = yield* decodeSince(input.since)
      const client = yield* makeAdminClient(input)
      const result = yield* client.connectorRuns.retryMany({
        path,
        payload: { status: Option.getOrElse(input.status, () => "DEAD_LETTERED" as const), ...given({ since }) }
      })
      yield* input.json ? printJson(result) : Console.log(`re-triggered ${plural(result.retried, "run")}`)
    }),
  {
    description: "Re-trigger a connector's failed or dead-lettered run (one, or in bulk): now, then the retry table.",
    examples: [
      "connectors retry 5c1d9e7a-2f3b-4a6c-8d0e-1b2c3d4e5f60 --store store-1 --connector 3f0c2a4e-8b1d-4c5e-9f7a-2b6d8e0c1a3f",
      "connectors retry --store store-1 --connector 3f0c2a4e-8b1d-4c5e-9f7a-2b6d8e0c1a3f --status FAILED --since 2024-05-01T00:00:00Z"
    ]
  }
)

export const connectorRunsCommands = [runsCommand, retryCommand] as const
