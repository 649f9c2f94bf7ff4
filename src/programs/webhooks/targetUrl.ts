import { Effect } from "effect"
import { isBlockedAddress, parseIPv4, parseIPv6 } from "../../services/AddressPolicy.ts"
import { Dns } from "../../services/Dns.ts"

export interface TargetPolicy {
  /** False in live mode unless WEBHOOK_ALLOW_INSECURE_TARGETS: https only, public addresses only. */
  readonly allowInsecure: boolean
}

const isIpLiteral = (host: string) => parseIPv4(host) !== undefined || parseIPv6(host) !== undefined

/**
 * Accepts a webhook target URL or says why not (the reason names the field).
 * In live mode: `https` only, no credentials in the URL, and every address the
 * host resolves to must be public (no loopback, private, link-local or cloud
 * metadata address). The same address rule is enforced again when connecting,
 * so a DNS change after this check cannot reach an internal address.
 */
export const checkTargetUrl = (raw: string, policy: TargetPolicy) =>
  Effect.gen(function*() {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return yield* Effect.fail("targetUrl: is not a valid URL")
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      return yield* Effect.fail("targetUrl: must be an https URL")
    }
    if (url.username !== "" || url.password !== "") {
      return yield* Effect.fail("targetUrl: must not carry credentials")
    }
    if (policy.allowInsecure) return url.toString()
    if (url.protocol !== "https:") return yield* Effect.fail("targetUrl: must be an https URL")
    const host = url.hostname.replace(/^\[|\]$/g, "")
    const addresses = isIpLiteral(host)
      ? [host]
      : yield* Effect.flatMap(Dns, (dns) => dns.resolve(host)).pipe(
        Effect.mapError(() => `targetUrl: the host ${host} does not resolve`)
      )
    if (addresses.length === 0 || addresses.some(isBlockedAddress)) {
      return yield* Effect.fail("targetUrl: points to a loopback, private, link-local or metadata address")
    }
    return url.toString()
  })
