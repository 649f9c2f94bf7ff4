/**
 * Which IP addresses an outbound request may reach (SSRF protection).
 *
 * Pure and Node-free so it can be used both at validation time (HTTP API) and
 * at connect time (the HttpOut layer's DNS lookup). Anything that is not a
 * well-formed IP literal counts as blocked: the callers only pass resolved
 * addresses or URL hosts already known to be IP literals, so an unparseable
 * value means something unexpected and failing closed is the safe answer.
 */

type Cidr4 = readonly [base: number, prefix: number]

/** IANA special-purpose IPv4 ranges that are not public unicast destinations. */
const blockedV4: ReadonlyArray<Cidr4> = [
  [v4(0, 0, 0, 0), 8], // "this network", incl. 0.0.0.0 (reaches localhost on Linux)
  [v4(10, 0, 0, 0), 8],
  [v4(100, 64, 0, 0), 10], // CGNAT
  [v4(127, 0, 0, 0), 8],
  [v4(169, 254, 0, 0), 16], // link-local, incl. cloud metadata 169.254.169.254
  [v4(172, 16, 0, 0), 12],
  [v4(192, 0, 0, 0), 24], // IETF protocol assignments (incl. 192.0.0.170/171 NAT64 discovery)
  [v4(192, 0, 2, 0), 24], // TEST-NET-1
  [v4(192, 88, 99, 0), 24], // deprecated 6to4 relay anycast
  [v4(192, 168, 0, 0), 16],
  [v4(198, 18, 0, 0), 15], // benchmarking
  [v4(198, 51, 100, 0), 24], // TEST-NET-2
  [v4(203, 0, 113, 0), 24], // TEST-NET-3
  [v4(224, 0, 0, 0), 4], // multicast
  [v4(240, 0, 0, 0), 4] // reserved, incl. broadcast 255.255.255.255
]

function v4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0
}

const inCidr4 = (ip: number, [base, prefix]: Cidr4): boolean => {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
  return ((ip & mask) >>> 0) === base
}

const isBlockedV4 = (ip: number): boolean => blockedV4.some((cidr) => inCidr4(ip, cidr))

/**
 * Strict dotted-quad decimal. Legacy forms (octal `0177.0.0.1`, `127.1`,
 * `2130706433`) are rejected rather than guessed at: WHATWG URL parsing and
 * DNS already canonicalise, so they only arrive here by mistake.
 */
export const parseIPv4 = (text: string): number | undefined => {
  const parts = text.split(".")
  if (parts.length !== 4) return undefined
  let value = 0
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined
    const octet = Number(part)
    if (octet > 255) return undefined
    value = value * 256 + octet
  }
  return value
}

/** Eight 16-bit groups, or undefined when `text` is not an IPv6 literal. */
export const parseIPv6 = (text: string): ReadonlyArray<number> | undefined => {
  let s = text
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1)
  const zone = s.indexOf("%")
  if (zone !== -1) {
    if (zone === s.length - 1) return undefined
    s = s.slice(0, zone)
  }
  if (s.length === 0) return undefined

  const doubleColon = s.indexOf("::")
  if (doubleColon !== -1 && s.indexOf("::", doubleColon + 1) !== -1) return undefined

  const parseGroups = (part: string, allowTrailingV4: boolean): Array<number> | undefined => {
    if (part === "") return []
    const pieces = part.split(":")
    const groups: Array<number> = []
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!
      if (allowTrailingV4 && i === pieces.length - 1 && piece.includes(".")) {
        const embedded = parseIPv4(piece)
        if (embedded === undefined) return undefined
        groups.push(embedded >>> 16, embedded & 0xffff)
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined
        groups.push(parseInt(piece, 16))
      }
    }
    return groups
  }

  if (doubleColon === -1) {
    const groups = parseGroups(s, true)
    return groups !== undefined && groups.length === 8 ? groups : undefined
  }
  const head = parseGroups(s.slice(0, doubleColon), false)
  const tail = parseGroups(s.slice(doubleColon + 2), true)
  if (head === undefined || tail === undefined) return undefined
  const missing = 8 - head.length - tail.length
  if (missing < 1) return undefined
  return [...head, ...new Array<number>(missing).fill(0), ...tail]
}

const v4At = (groups: ReadonlyArray<number>, index: number): number =>
  ((groups[index]! << 16) | groups[index + 1]!) >>> 0

const startsWith = (groups: ReadonlyArray<number>, prefix: ReadonlyArray<number>): boolean =>
  prefix.every((g, i) => groups[i] === g)

const isBlockedV6 = (g: ReadonlyArray<number>): boolean => {
  // Forms that carry an IPv4 destination are judged by that destination.
  if (startsWith(g, [0, 0, 0, 0, 0, 0xffff])) return isBlockedV4(v4At(g, 6)) // IPv4-mapped
  if (startsWith(g, [0x64, 0xff9b, 0, 0, 0, 0])) return isBlockedV4(v4At(g, 6)) // NAT64 well-known prefix
  if (g[0] === 0x2002) return isBlockedV4(v4At(g, 1)) // 6to4

  // Allowlist: only global unicast (2000::/3) is publicly routable. This covers
  // ::, ::1, IPv4-compatible ::a.b.c.d, 64:ff9b:1::/48 local-use NAT64,
  // fc00::/7 (incl. AWS metadata fd00:ec2::254), fe80::/10 and ff00::/8.
  if ((g[0]! & 0xe000) !== 0x2000) return true

  if (g[0] === 0x2001 && (g[1]! & 0xfe00) === 0) return true // 2001::/23 IETF assignments, incl. Teredo
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true // documentation
  if (g[0] === 0x3fff && (g[1]! & 0xf000) === 0) return true // 3fff::/20 documentation
  return false
}

/** True when an outbound request must not connect to `ip` (IPv4 or IPv6 literal). */
export const isBlockedAddress = (ip: string): boolean => {
  const asV4 = parseIPv4(ip)
  if (asV4 !== undefined) return isBlockedV4(asV4)
  const asV6 = parseIPv6(ip)
  if (asV6 !== undefined) return isBlockedV6(asV6)
  return true
}
