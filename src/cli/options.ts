import { Command, HelpDoc, Options } from "@effect/cli"
import { Config, Effect, Option, type Redacted, Schema } from "effect"
import { StoreId } from "../domain/EventEnvelope.ts"
import { CliError, runCommand } from "./failures.ts"
import { defaultUrl, devSecretsDir } from "./target.ts"

/** The flags every client command shares, their checks, and the way a command is declared. */

export const url = Options.text("url").pipe(
  Options.withFallbackConfig(Config.string("INTEGRATION_SERVICE_URL")),
  Options.optional,
  Options.withDescription(
    "Base URL of integration-service's HTTP API. Default: $INTEGRATION_SERVICE_URL, else the dev server started " +
      `in this directory (.data/dev-server.json), else ${defaultUrl}.`
  )
)

export const token = Options.redacted("token").pipe(
  Options.withFallbackConfig(Config.redacted("ADMIN_TOKEN")),
  Options.optional,
  Options.withDescription(
    "Admin API token (sent as Authorization: Bearer). Default: $ADMIN_TOKEN, else the token of the dev server " +
      `started in this directory (.data/dev-server.json, or ${devSecretsDir}).`
  )
)

export const json = Options.boolean("json").pipe(
  Options.withDescription("Print JSON instead of a table.")
)

/** `--url`, `--token`, `--json`: spread into a command's options. */
export const clientOptions = { url, token, json } as const

export interface ClientOptions {
  readonly url: Option.Option<string>
  readonly token: Option.Option<Redacted.Redacted<string>>
  readonly json: boolean
}

export const storeOption = Options.text("store").pipe(
  Options.withAlias("s"),
  Options.withDescription("The store id: every admin route is scoped to one store.")
)

/** An optional text flag. */
export const optionalText = (name: string, description: string) =>
  Options.text(name).pipe(Options.optional, Options.withDescription(description))

/**
 * An optional whole number, taken as text so that a wrong one is explained
 * naming the flag and its range (see `checkInteger`).
 */
export const optionalInteger = (name: string, description: string) => optionalText(name, description)

/** `--active yes|no`: a switch that can also be left as it is. */
export const activeOption = (description: string) =>
  Options.choice("active", ["yes", "no"] as const).pipe(Options.optional, Options.withDescription(description))

export const decodeActive = (value: Option.Option<"yes" | "no">) => Option.map(value, (v) => v === "yes")

/** A repeated flag given at least once, else None (an update leaves the list as it is). */
export const nonEmptyList = <A>(values: ReadonlyArray<A>): Option.Option<ReadonlyArray<A>> =>
  values.length === 0 ? Option.none() : Option.some(values)

/** An update with nothing to change is refused naming the flags that change something. */
export const requireChanges = <P extends object>(patch: P, flags: string) =>
  Object.keys(patch).length === 0
    ? Effect.fail(new CliError({ message: `nothing to change: give ${flags}` }))
    : Effect.succeed(patch)

/** `--since`: an ISO-8601 date-time. */
export const sinceOption = (description: string) => optionalText("since", description)

// ---------------------------------------------------------------------------------------------
// Input validation: one clear line naming the flag

export const decodeInput = <A, I>(
  name: string,
  schema: Schema.Schema<A, I>,
  value: unknown,
  expected: string
): Effect.Effect<A, CliError> =>
  Schema.decodeUnknown(schema)(value).pipe(
    Effect.mapError(() => new CliError({ message: `${name} ${JSON.stringify(value)} is invalid: expected ${expected}` }))
  )

/** Decodes an optional flag's value; absent stays absent. */
export const decodeOptional = <A, I>(
  name: string,
  schema: Schema.Schema<A, I>,
  value: Option.Option<unknown>,
  expected: string
): Effect.Effect<Option.Option<A>, CliError> =>
  Effect.transposeOption(Option.map(value, (v) => decodeInput(name, schema, v, expected)))

export const decodeStore = (value: string) =>
  decodeInput("--store", StoreId, value, "a store id (letters, digits and . _ : -, at most 128 characters)")

export const decodeUuid = (name: string, value: string) => decodeInput(name, Schema.UUID, value, "a UUID")

/** `--<name> N` with `min ≤ N ≤ max`. */
export const checkInteger = (name: string, value: Option.Option<string>, min: number, max: number) =>
  decodeOptional(
    name,
    Schema.NumberFromString.pipe(Schema.int(), Schema.between(min, max)),
    Option.map(value, (v) => v.trim()),
    `a whole number from ${min} to ${max}`
  )

export const decodeSince = (value: Option.Option<string>) =>
  decodeOptional("--since", Schema.DateTimeUtc, value, "an ISO-8601 date-time, e.g. 2024-05-01T00:00:00Z")

/** `{ a: Some(1), b: None }` → `{ a: 1 }`: url params and payloads without the flags not given. */
export const given = <T extends Record<string, Option.Option<unknown>>>(
  fields: T
): { [K in keyof T]?: T[K] extends Option.Option<infer A> ? A : never } => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    if (Option.isSome(value)) out[key] = value.value
  }
  return out as { [K in keyof T]?: T[K] extends Option.Option<infer A> ? A : never }
}

/** Flags that must not be combined with `what`: a line naming them. */
export const refuseWith = (what: string, flags: Record<string, Option.Option<unknown> | boolean>) => {
  const present = Object.entries(flags)
    .filter(([, value]) => (typeof value === "boolean" ? value : Option.isSome(value)))
    .map(([name]) => name)
  return present.length === 0
    ? Effect.void
    : Effect.fail(new CliError({ message: `${present.join(", ")} cannot be combined with ${what}` }))
}

// ---------------------------------------------------------------------------------------------
// Declaring a command

export interface Help {
  readonly description: string
  /** Command lines shown under EXAMPLES (without the leading `integration-service`). */
  readonly examples: ReadonlyArray<string>
}

export const helpDoc = (help: Help): HelpDoc.HelpDoc =>
  HelpDoc.blocks([
    HelpDoc.p(help.description),
    HelpDoc.h2("EXAMPLES"),
    ...help.examples.map((line) => HelpDoc.p(`  integration-service ${line}`))
  ])

/**
 * A command of the admin API's client: `--url`, `--token` and `--json` added to
 * its flags, its body's failures printed as one line (exit status 1), its help
 * with examples.
 */
export const clientCommand = <Name extends string, const C extends Command.Command.Config, E, R>(
  name: Name,
  config: C,
  body: (input: Command.Command.ParseConfig<C & typeof clientOptions>) => Effect.Effect<unknown, E, R>,
  help: Help
) =>
  Command.make(name, { ...clientOptions, ...config }, (input) =>
    runCommand(body(input as Command.Command.ParseConfig<C & typeof clientOptions>))).pipe(
      Command.withDescription(helpDoc(help))
    )

/** A group of commands (`deliveries`, `subscriptions`, …). */
export const commandGroup = <
  Name extends string,
  const Subcommands extends readonly [Command.Command<any, any, any, any>, ...Array<Command.Command<any, any, any, any>>]
>(
  name: Name,
  description: string,
  subcommands: Subcommands
) => Command.make(name).pipe(Command.withDescription(description), Command.withSubcommands(subcommands))
