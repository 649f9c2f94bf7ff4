import { Options } from "@effect/cli"
import { Console, Effect, Option, Redacted, Schema } from "effect"
import { ConfigId, ConnectorConfig } from "../../domain/connectors/models.ts"
import { callAdmin, makeAdminClient } from "../client.ts"
import { CliError } from "../failures.ts"
import {
  activeOption, clientCommand, decodeActive, decodeStore, given, nonEmptyList, optionalText,
  requireChanges, storeOption
} from "../options.ts"
import { deleteByIdCommand, recordCallCommand, recordCommand, storeRecord } from "../commandKit.ts"
import { formatTime, printJson, recordFields } from "../format.ts"

/** `connectors create|update|delete|credentials`: configuring a store's connectors. */

const configRecord = storeRecord("connector id", ConfigId, "The connector config id (see `connectors list`).")

const settingOption = Options.text("setting").pipe(
  Options.repeated,
  Options.withDescription(
    "A setting as key=value (the value is read as JSON when it parses, e.g. pollIntervalSeconds=600, else as text); " +
      "repeat for several. `connectors types` lists each connector's settings."
  )
)
const eventOption = Options.text("event").pipe(
  Options.repeated,
  Options.withDescription("A platform event type the connector acts on (see `connectors types`); repeat for several.")
)
const active = activeOption("yes: runs and polls; no: paused.")

/** `key=value` flags → a settings object; each bad one named. */
export const parseSettings = (pairs: ReadonlyArray<string>): Effect.Effect<Record<string, unknown>, CliError> =>
  Effect.reduce(pairs, {} as Record<string, unknown>, (settings, pair) => {
    const at = pair.indexOf("=")
    const key = at < 0 ? "" : pair.slice(0, at).trim()
    if (!/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(key)) {
      return Effect.fail(
        new CliError({ message: `--setting ${JSON.stringify(pair)} is invalid: expected key=value, e.g. sellerId=A1B2C3` })
      )
    }
    const text = pair.slice(at + 1)
    let value: unknown = text
    try {
      value = JSON.parse(text)
    } catch {
      // Plain text: a seller id, a URL.
    }
    return Effect.succeed({ ...settings, [key]: value })
  })

const configFields = (c: ConnectorConfig) =>
  recordFields("connector", c, [
    ["type", c.connectorType],
    ["name", c.displayName],
    ["active", c.isActive ? "yes" : "no"],
    ["credentials", c.hasCredentials ? "stored" : "none yet (connectors credentials)"],
    ["events", c.eventSubscriptions.join(" ") || "-"],
    ["settings", JSON.stringify(c.settings)],
    ["updated", formatTime(c.updatedAt)]
  ])

const printConfig = (json: boolean, c: ConnectorConfig) =>
  json ? printJson(Schema.encodeSync(ConnectorConfig)(c)) : Console.log(configFields(c))

export const createConnectorCommand = clientCommand(
  "create",
  {
    store: storeOption,
    type: Options.text("type").pipe(Options.withDescription("The connector: amazon, ebay or google-shopping.")),
    name: Options.text("name").pipe(Options.withDescription("A display name, e.g. 'Amazon US'.")),
    events: eventOption,
    settings: settingOption,
    active
  },
  (input) =>
    Effect.gen(function*() {
      const storeId = yield* decodeStore(input.store)
      const settings = yield* parseSettings(input.settings)
      const created = yield* callAdmin(input, (client) =>
        client.connectors.create({
          path: { storeId },
          payload: {
            connectorType: input.type,
            displayName: input.name,
            eventSubscriptions: input.events,
            settings,
            isActive: Option.getOrElse(decodeActive(input.active), () => true)
          }
        }))
      yield* printConfig(input.json, created)
      if (!input.json) {
        yield* Console.log(
          `\nnext: integration-service connectors credentials ${created.id} --store ${storeId} --api-key … --api-secret …`
        )
      }
    }),
  {
    description: "Configure a connector for a store. Settings are checked by the connector's schema (a wrong one is " +
      "a 400 naming settings.<field>); its marketplace credentials are stored next with `connectors credentials`.",
    examples: [
      "connectors create --store store-1 --type amazon --name 'Amazon US' --setting sellerId=A1B2C3 --event product.updated",
      "connectors create --store store-1 --type google-shopping --name Google --setting accountId=123 --setting dataSourceId=456"
    ]
  }
)

export const updateConnectorCommand = recordCallCommand(configRecord, "update", {
  flags: {
    name: optionalText("name", "A new display name."),
    events: eventOption.pipe(Options.withDescription("The event types, replacing the current ones; repeat for several.")),
    settings: settingOption.pipe(
      Options.withDescription("key=value; the settings given replace the whole settings object (it is checked again).")
    ),
    active
  },
  prepare: (input) =>
    Effect.gen(function*() {
      const settings = yield* Effect.transposeOption(Option.map(nonEmptyList(input.settings), parseSettings))
      return yield* requireChanges(
        given({
          displayName: input.name,
          eventSubscriptions: nonEmptyList(input.events),
          settings,
          isActive: decodeActive(input.active)
        }),
        "--name, --event, --setting or --active"
      )
    }),
  call: (client, path, patch) => client.connectors.update({ path, payload: patch }),
  answer: ConnectorConfig,
  text: configFields,
  help: {
    description: "Change a connector config: only what is given changes (--event and --setting replace their lists).",
    examples: [
      "connectors update 3f0c2a4e-8b1d-4c5e-9f7a-2b6d8e0c1a3f --store store-1 --active no",
      "connectors update 3f0c2a4e-8b1d-4c5e-9f7a-2b6d8e0c1a3f --store store-1 --setting sellerId=A1B2C3 --setting pollIntervalSeconds=600"
    ]
  }
})

export const deleteConnectorCommand = deleteByIdCommand({
  thing: "connector",
  record: configRecord,
  remove: (client, path) => client.connectors.delete({ path }),
  help: {
    description: "Delete a connector config: its polling stops, its runs and sync log go with it.",
    examples: ["connectors delete 3f0c2a4e-8b1d-4c5e-9f7a-2b6d8e0c1a3f --store store-1"]
  }
})

const secretOption = (name: string, description: string) =>
  Options.redacted(name).pipe(Options.optional, Options.withDescription(description))

export const credentialsConnectorCommand = recordCommand(
  configRecord,
  "credentials",
  {
    apiKey: secretOption("api-key", "Vault key api-key (Amazon: LWA client id; eBay: App ID; Google: client_email)."),
    apiSecret: secretOption("api-secret", "Vault key api-secret (Amazon: LWA client secret; eBay: Cert ID; Google: private key)."),
    refreshToken: secretOption("refresh-token", "Vault key refresh-token (Amazon and eBay: the seller's refresh token).")
  },
  (input, path) =>
    Effect.gen(function*() {
      const missing = [
        Option.isNone(input.apiKey) ? "--api-key" : undefined,
        Option.isNone(input.apiSecret) ? "--api-secret" : undefined
      ].filter((flag) => flag !== undefined)
      if (missing.length > 0) return yield* new CliError({ message: `${missing.join(" and ")} required` })
      const reveal = (value: Option.Option<Redacted.Redacted<string>>) => Option.map(value, Redacted.value)
      const client = yield* makeAdminClient(input)
      yield* client.connectors.putCredentials({
        path,
        payload: {
          apiKey: Option.getOrThrow(reveal(input.apiKey)),
          apiSecret: Option.getOrThrow(reveal(input.apiSecret)),
          ...given({ refreshToken: reveal(input.refreshToken) })
        }
      })
      yield* input.json
        ? printJson({ id: path.id, credentialsStored: true })
        : Console.log(`stored the credentials of connector ${path.id} (they are never shown again)`)
    }),
  {
    description: "Store a connector's marketplace credentials (into Vault at integration-service/connector/<id>), " +
      "replacing any stored before. `connectors types` says what each connector's are.",
    examples: [
      "connectors credentials 3f0c2a4e-8b1d-4c5e-9f7a-2b6d8e0c1a3f --store store-1 --api-key amzn1.application-oa2-client.x " +
      "--api-secret s3cr3t --refresh-token 'Atzr|…'"
    ]
  }
)
