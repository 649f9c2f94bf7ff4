import { Effect, Layer } from "effect"
import { lookup } from "node:dns/promises"
import { Dns, DnsError } from "../services/Dns.ts"

/** The system resolver (what undici will use when connecting). */
export const DnsLive = Layer.succeed(Dns, {
  resolve: (host) =>
    Effect.tryPromise({
      try: () => lookup(host, { all: true, verbatim: true }),
      catch: (cause) =>
        new DnsError({ host, reason: (cause as NodeJS.ErrnoException).code ?? "lookup failed" })
    }).pipe(
      Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new DnsError({ host, reason: "timed out" }) }),
      Effect.map((addresses) => addresses.map((a) => a.address))
    )
})

/** A fixed table of names (tests). Unknown names do not resolve. */
export const DnsTest = (table: Readonly<Record<string, ReadonlyArray<string>>>) =>
  Layer.succeed(Dns, {
    resolve: (host) => {
      const addresses = table[host]
      return addresses ? Effect.succeed(addresses) : Effect.fail(new DnsError({ host, reason: "ENOTFOUND" }))
    }
  })
