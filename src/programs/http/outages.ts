import { Effect } from "effect"
import { PersistenceError } from "../../services/Persistence.ts"
import { VaultError } from "../../services/Vault.ts"
import { ServiceUnavailable } from "../../domain/api/errors.ts"

/**
 * Our outages as the API answers them, in one place: the database or the
 * secret store unreachable (or refusing) is a 503 with the API's error body.
 */
export const asUnavailable = (error: PersistenceError | VaultError) =>
  error instanceof PersistenceError
    ? ServiceUnavailable.of(`the database is unavailable (${error.detail}); try again`)
    : ServiceUnavailable.of("the secret store is unavailable; try again")

const isOutage = (error: unknown): error is PersistenceError | VaultError =>
  error instanceof PersistenceError || error instanceof VaultError

export const answeringOutages = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, PersistenceError | VaultError> | ServiceUnavailable, R> =>
  Effect.catchIf(effect, isOutage, (error) => Effect.fail(asUnavailable(error))) as Effect.Effect<
    A,
    Exclude<E, PersistenceError | VaultError> | ServiceUnavailable,
    R
  >

/** A handler whose outages are answered as above. */
export const outagesAnswered = <Args, A, E, R>(handler: (args: Args) => Effect.Effect<A, E, R>) => (args: Args) =>
  answeringOutages(handler(args))
