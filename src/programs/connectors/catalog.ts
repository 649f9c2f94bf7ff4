import { JSONSchema, Option, Schema, SchemaAST } from "effect"
import { ConnectorCredentials } from "../../domain/connectors/models.ts"
import type { ConnectorAdapter } from "./ConnectorAdapter.ts"
import { amazonAdapter } from "./adapters/amazon/index.ts"
import { ebayAdapter } from "./adapters/ebay/index.ts"
import { googleShoppingAdapter } from "./adapters/google-shopping/index.ts"

/**
 * What a store admin needs to configure each connector, read from the
 * adapters' own schemas: `connectors types` prints it, and the README's
 * connector section is generated from it (scripts/connector-docs.ts), so
 * neither can drift from what `POST …/connectors` checks.
 */

export interface SettingField {
  readonly name: string
  /** `string`, `integer 60–86400`, `array of string`, … */
  readonly type: string
  readonly required: boolean
  /** The value used when the field is left out (JSON). */
  readonly default: string | undefined
  /** The pattern a string must match. */
  readonly pattern: string | undefined
}

export interface CredentialField {
  /** The field of `PUT …/credentials` (and the `connectors credentials` flag). */
  readonly field: string
  readonly flag: string
  /** The key in Vault `integration-service/connector/{config_id}`. */
  readonly vaultKey: string
  /** Every credential a connector lists is one it needs. */
  readonly required: boolean
  readonly meaning: string
}

export interface ConnectorType {
  readonly connectorType: string
  readonly events: ReadonlyArray<string>
  readonly settings: ReadonlyArray<SettingField>
  readonly credentials: ReadonlyArray<CredentialField>
}

/** What each marketplace calls the credentials (the API's field names are the same for all). */
const meanings: Record<string, Record<string, string>> = {
  amazon: {
    "api-key": "Login with Amazon client id (amzn1.application-oa2-client…)",
    "api-secret": "Login with Amazon client secret",
    "refresh-token": "the seller's LWA refresh token (Atzr|…) from authorizing the app"
  },
  ebay: {
    "api-key": "the application's App ID (client id)",
    "api-secret": "the application's Cert ID (client secret)",
    "refresh-token": "the seller's user refresh token (v^1.1#…)"
  },
  "google-shopping": {
    "api-key": "the service account's client_email",
    "api-secret": "the service account's private key (PKCS#8 PEM, private_key of its JSON key file)"
  }
}

const vaultKeyOf: Record<string, string> = { apiKey: "api-key", apiSecret: "api-secret", refreshToken: "refresh-token" }
const flagOf = (field: string) => `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

interface JsonProperty {
  readonly type?: string
  readonly $ref?: string
  readonly pattern?: string
  readonly minimum?: number
  readonly maximum?: number
  readonly items?: JsonProperty
}

const typeOf = (property: JsonProperty, defs: Record<string, JsonProperty>): string => {
  const base = property.type ?? (property.$ref === undefined ? undefined : defs[property.$ref.replace("#/$defs/", "")]?.type)
  if (base === "array" && property.items !== undefined) return `array of ${typeOf(property.items, defs)}`
  const range = property.minimum !== undefined && property.maximum !== undefined
    ? ` ${property.minimum}–${property.maximum}`
    : ""
  return `${base ?? "any"}${range}`
}

/** Each field's default, from the schema's own decoding of an absent field. */
const defaultsOf = (schema: Schema.Schema.Any): Map<string, unknown> => {
  const defaults = new Map<string, unknown>()
  const ast = schema.ast
  if (SchemaAST.isTransformation(ast) && SchemaAST.isTypeLiteralTransformation(ast.transformation)) {
    for (const t of ast.transformation.propertySignatureTransformations) {
      Option.map(t.decode(Option.none()), (value) => defaults.set(String(t.from), value))
    }
  }
  return defaults
}

export const describeSettings = (schema: Schema.Schema.Any): ReadonlyArray<SettingField> => {
  const json = JSONSchema.make(Schema.encodedBoundSchema(schema)) as {
    readonly properties?: Record<string, JsonProperty>
    readonly required?: ReadonlyArray<string>
    readonly $defs?: Record<string, JsonProperty>
  }
  const defaults = defaultsOf(schema)
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    type: typeOf(property, json.$defs ?? {}),
    required: (json.required ?? []).includes(name),
    default: defaults.has(name) ? JSON.stringify(defaults.get(name)) : undefined,
    pattern: property.pattern ?? property.items?.pattern
  }))
}

const describeCredentials = (adapter: ConnectorAdapter): ReadonlyArray<CredentialField> =>
  Object.keys(ConnectorCredentials.fields).flatMap((field) => {
    const vaultKey = vaultKeyOf[field] ?? field
    if (!adapter.credentialKeys.includes(vaultKey)) return []
    return [{
      field,
      flag: flagOf(field),
      vaultKey,
      // The API takes refreshToken as optional; a connector that names it needs it.
      required: true,
      meaning: meanings[adapter.connectorType]?.[vaultKey] ?? ""
    }]
  })

export const describeConnector = (adapter: ConnectorAdapter): ConnectorType => ({
  connectorType: adapter.connectorType,
  events: adapter.supportedEvents,
  settings: describeSettings(adapter.settings),
  credentials: describeCredentials(adapter)
})

/** The connectors the service ships (the same list as registry.ts). */
export const connectorCatalog: ReadonlyArray<ConnectorType> = [amazonAdapter, ebayAdapter, googleShoppingAdapter].map(
  (adapter) => describeConnector(adapter as ConnectorAdapter)
)
