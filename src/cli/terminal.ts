import { useColour } from "./format.ts"

// eslint-disable-next-line no-control-regex
const ansi = /\u001b\[[0-9;]*m/g

/**
 * @effect/cli prints its help and its errors with colour codes whatever the
 * output is, and a subcommand's usage as `$ list`. Off a terminal (or with
 * NO_COLOR) the codes are dropped; a help text's usage line names the whole
 * command (`$ integration-service deliveries list …`).
 */
export const tidyTerminalOutput = (args: ReadonlyArray<string>) => {
  const words = args.filter((a) => !a.startsWith("-"))
  const asking = args.includes("--help") || args.includes("-h")
  const path = ["integration-service", ...words.slice(0, 2)]
  const fix = (value: unknown) => {
    if (typeof value !== "string") return value
    let text = useColour() ? value : value.replace(ansi, "")
    if (asking && words.length > 0) {
      const leaf = words.slice(0, 2).at(-1)!
      text = text.replace(new RegExp(`^(\\S*\\$\\S* )${leaf.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "m"), `$1${path.join(" ")}`)
    }
    return text
  }
  for (const stream of ["log", "error"] as const) {
    const original = console[stream].bind(console)
    console[stream] = (...values: Array<unknown>) => original(...values.map(fix))
  }
}
