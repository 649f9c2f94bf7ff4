import { Either, Metric, MetricBoundaries, Schema } from "effect"

/** The LISTEN/NOTIFY channel on which instances tell each other of revokes and rotations. */
export const credentialsChannel = "integration_service_credentials"

/**
 * A revoke or rotate, as one instance tells the others: the credential, the
 * generation it now has (everything verified or minted under an older one is
 * dead), when it committed (epoch ms, the sender's clock) and who sent it.
 */
export const CredentialChange = Schema.Struct({
  credentialId: Schema.UUID,
  generation: Schema.Int,
  change: Schema.Literal("revoked", "rotated"),
  at: Schema.Number,
  from: Schema.String
})
export type CredentialChange = typeof CredentialChange.Type

const ChangeJson = Schema.parseJson(CredentialChange)
export const encodeChange = Schema.encodeSync(ChangeJson)

export type ReceivedChange =
  | { readonly _tag: "Change"; readonly change: CredentialChange }
  /**
   * "*" (the listener (re)connected: something may have been missed), or a
   * payload this version cannot read (e.g. the bare credential id earlier
   * versions sent): dropping everything is always safe.
   */
  | { readonly _tag: "Everything" }

export const decodeChange = (payload: string): ReceivedChange => {
  if (payload === "*") return { _tag: "Everything" }
  const decoded = Schema.decodeUnknownEither(ChangeJson)(payload)
  return Either.isRight(decoded) ? { _tag: "Change", change: decoded.right } : { _tag: "Everything" }
}

/**
 * From a revoke or rotate committing on one instance to another instance
 * dropping what it cached (measured on the receiving instance against the
 * sender's clock: instances on different hosts add their clock skew).
 */
export const revocationPropagation = Metric.histogram(
  "credential_revocation_propagation_seconds",
  MetricBoundaries.fromIterable([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]),
  "time from a credential's revoke or rotate on one instance until another instance stops accepting it"
)
