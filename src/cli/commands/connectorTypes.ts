import { Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { CliError } from "../failures.ts"
import { clientCommand } from "../options.ts"
import { type Column, formatTable, paint, printJson } from "../format.ts"

type Catalog = typeof import("../../programs/connectors/catalog.ts")
type Setting = Catalog["connectorCatalog"][number]["settings"][number]
type Credential = Catalog["connectorCatalog"][number]["credentials"][number]

const settingColumns: ReadonlyArray<Column<Setting>> = [
  { header: "SETTING", value: (s) => s.name },
  { header: "TYPE", value: (s) => s.type },
  { header: "REQUIRED", value: (s) => (s.required ? "yes" : "no") },
  { header: "DEFAULT", value: (s) => s.default ?? "-" },
  { header: "FORMAT", value: (s) => s.pattern ?? "-" }
]

const credentialColumns: ReadonlyArray<Column<Credential>> = [
  { header: "CREDENTIAL FLAG", value: (c) => c.flag },
  { header: "API FIELD", value: (c) => c.field },
  { header: "VAULT KEY", value: (c) => c.vaultKey },
  { header: "WHAT IT IS", value: (c) => c.meaning }
]

/** Reads the connectors' own schemas (loaded only by this command: they bring the adapters). */
export const connectorTypesCommand = clientCommand(
  "types",
  {
    type: Options.text("type").pipe(Options.optional, Options.withDescription("Only this connector (amazon, ebay, google-shopping)."))
  },
  (input) =>
    Effect.gen(function*() {
      const { connectorCatalog } = yield* Effect.promise((): Promise<Catalog> => import("../../programs/connectors/catalog.ts"))
      const chosen = connectorCatalog.filter((c) => input.type._tag === "None" || c.connectorType === input.type.value)
      if (chosen.length === 0) {
        return yield* new CliError({
          message: `--type ${JSON.stringify(input.type._tag === "Some" ? input.type.value : "")} is invalid: expected one of ${
            connectorCatalog.map((c) => c.connectorType).join(", ")
          }`
        })
      }
      if (input.json) return yield* printJson(chosen)
      yield* Console.log(chosen.map((c) =>
        [
          paint("bold", c.connectorType),
          `events: ${c.events.join(", ")}`,
          "",
          formatTable(settingColumns, c.settings),
          "",
          formatTable(credentialColumns, c.credentials)
        ].join("\n")
      ).join("\n\n"))
    }),
  {
    description: "What each connector takes: its settings (type, required, default, format) for `connectors create " +
      "--setting`, and its credentials for `connectors credentials`, read from the connector's own schema.",
    examples: ["connectors types", "connectors types --type amazon --json"]
  }
)
