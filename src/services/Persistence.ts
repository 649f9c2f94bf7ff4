import { Data } from "effect"

/**
 * A database operation that did not succeed, as every repository and store
 * reports it. `Unavailable`: the database could not be reached or gave up
 * (connection refused or lost, shutting down, out of resources) — an outage
 * on our side, worth waiting out. `Rejected`: the database refused this
 * statement's data (a value it cannot store, a constraint) — trying the same
 * again will fail again. `detail` names the driver's or SQLSTATE code, never a
 * value from the statement.
 */
export class PersistenceError extends Data.TaggedError("PersistenceError")<{
  readonly kind: "Unavailable" | "Rejected"
  readonly operation: string
  readonly detail: string
}> {
  override get message() {
    return `database ${this.operation}: ${this.kind === "Unavailable" ? "unavailable" : "rejected"} (${this.detail})`
  }
}
