import { Effect, Redacted } from "effect"
import { type ConnectorContext, ConnectorError } from "../ConnectorAdapter.ts"

/** A credential from Vault, or Misconfigured naming it (never its value). */
export const requireCredential = <S>(context: ConnectorContext<S>, key: string) => {
  const value = context.credentials[key]
  return value === undefined
    ? Effect.fail(
      new ConnectorError({
        kind: "Misconfigured",
        message: `credential ${key} is not set (PUT …/connectors/${context.configId}/credentials)`
      })
    )
    : Effect.succeed(value)
}

/** The credential's value, for a request body or header. */
export const credentialValue = <S>(context: ConnectorContext<S>, key: string) =>
  Effect.map(requireCredential(context, key), Redacted.value)
