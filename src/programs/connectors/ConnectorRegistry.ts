import { Context, Layer, Option } from "effect"
import type { ConnectorAdapter } from "./ConnectorAdapter.ts"

/** The connectors this service can run, by type. */
export interface ConnectorRegistryShape {
  readonly get: (connectorType: string) => Option.Option<ConnectorAdapter>
  readonly types: ReadonlyArray<string>
}

export class ConnectorRegistry extends Context.Tag("integration-service/ConnectorRegistry")<
  ConnectorRegistry,
  ConnectorRegistryShape
>() {}

export const makeConnectorRegistry = (adapters: ReadonlyArray<ConnectorAdapter>) => {
  const byType = new Map(adapters.map((adapter) => [adapter.connectorType, adapter]))
  return Layer.succeed(ConnectorRegistry, {
    get: (connectorType) => Option.fromNullable(byType.get(connectorType)),
    types: [...byType.keys()]
  })
}
