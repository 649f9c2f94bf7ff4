import { Context, Data, type Effect } from "effect"

export class DnsError extends Data.TaggedError("DnsError")<{ readonly host: string; readonly reason: string }> {
  override get message() {
    return `cannot resolve ${this.host}: ${this.reason}`
  }
}

/** Name resolution, for checking where a webhook target URL points before accepting it. */
export interface DnsShape {
  /** Every address the name resolves to (IPv4 and IPv6). */
  readonly resolve: (host: string) => Effect.Effect<ReadonlyArray<string>, DnsError>
}

export class Dns extends Context.Tag("integration-service/Dns")<Dns, DnsShape>() {}
