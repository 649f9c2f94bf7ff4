import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { isIP } from "node:net"
import { isBlockedAddress, parseIPv4, parseIPv6 } from "../src/services/AddressPolicy.ts"

const blocked: ReadonlyArray<readonly [string, string]> = [
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback /8"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "this network"],
  ["10.0.0.1", "private 10/8"],
  ["10.255.255.255", "private 10/8 end"],
  ["172.16.0.1", "private 172.16/12 start"],
  ["172.31.255.255", "private 172.16/12 end"],
  ["192.168.1.1", "private 192.168/16"],
  ["169.254.169.254", "cloud metadata"],
  ["169.254.0.1", "link-local"],
  ["100.64.0.1", "CGNAT start"],
  ["100.127.255.255", "CGNAT end"],
  ["192.0.0.170", "NAT64 discovery"],
  ["192.0.2.1", "TEST-NET-1"],
  ["198.18.0.1", "benchmarking"],
  ["198.19.255.255", "benchmarking end"],
  ["198.51.100.7", "TEST-NET-2"],
  ["203.0.113.9", "TEST-NET-3"],
  ["192.88.99.1", "6to4 relay anycast"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast SSDP"],
  ["240.0.0.1", "reserved"],
  ["255.255.255.255", "broadcast"],
  ["::1", "IPv6 loopback"],
  ["0:0:0:0:0:0:0:1", "IPv6 loopback, long form"],
  ["[::1]", "IPv6 loopback in URL brackets"],
  ["::", "IPv6 unspecified"],
  ["::ffff:127.0.0.1", "IPv4-mapped loopback"],
  ["::ffff:7f00:1", "IPv4-mapped loopback, hex"],
  ["::FFFF:7F00:0001", "IPv4-mapped loopback, upper case"],
  ["0:0:0:0:0:ffff:a00:1", "IPv4-mapped 10.0.0.1, long form"],
  ["::ffff:10.0.0.1", "IPv4-mapped private"],
  ["::ffff:169.254.169.254", "IPv4-mapped metadata"],
  ["::ffff:a9fe:a9fe", "IPv4-mapped metadata, hex"],
  ["::127.0.0.1", "IPv4-compatible (deprecated)"],
  ["::ffff:0:127.0.0.1", "IPv4-translated"],
  ["64:ff9b::127.0.0.1", "NAT64 of loopback"],
  ["64:ff9b::a9fe:a9fe", "NAT64 of metadata"],
  ["64:ff9b::10.1.2.3", "NAT64 of private"],
  ["64:ff9b:1::8.8.8.8", "local-use NAT64 prefix"],
  ["2002:7f00:1::1", "6to4 of loopback"],
  ["2002:c0a8:101::", "6to4 of 192.168.1.1"],
  ["fc00::1", "unique local"],
  ["fd12:3456:789a::1", "unique local fd"],
  ["fd00:ec2::254", "AWS IPv6 metadata"],
  ["fe80::1", "link-local"],
  ["fe80::1%eth0", "link-local with zone"],
  ["febf:ffff::1", "link-local end"],
  ["fec0::1", "site-local (deprecated)"],
  ["ff02::1", "multicast"],
  ["ff05::1:3", "multicast site"],
  ["2001:db8::1", "documentation"],
  ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"],
  ["2001:2::1", "benchmarking"],
  ["3fff::1", "documentation 3fff::/20"],
  ["100::1", "discard-only"],
  ["5f00::1", "SRv6 SIDs"],
  // Not IP literals: fail closed.
  ["", "empty"],
  ["localhost", "a name"],
  ["example.com", "a domain"],
  ["127.1", "short IPv4"],
  ["0177.0.0.1", "octal IPv4"],
  ["0x7f.0.0.1", "hex IPv4"],
  ["2130706433", "integer IPv4"],
  ["08.8.8.8", "leading zero"],
  ["256.1.1.1", "octet out of range"],
  ["1.2.3.4.5", "five octets"],
  [" 8.8.8.8", "leading space"],
  ["1:2:3:4:5:6:7:8:9", "nine groups"],
  ["1::2::3", "two double colons"],
  [":::1", "triple colon"],
  [":1::2", "leading single colon"],
  ["1:2:3:4:5:6:7:8::", "double colon with eight groups"],
  ["12345::1", "group too long"],
  ["g::1", "not hex"],
  ["::ffff:1.2.3", "short embedded IPv4"],
  ["1.2.3.4::", "embedded IPv4 not last"],
  ["fe80::1%", "empty zone"]
]

const allowed: ReadonlyArray<readonly [string, string]> = [
  ["8.8.8.8", "Google DNS"],
  ["1.1.1.1", "Cloudflare DNS"],
  ["93.184.216.34", "example.com"],
  ["172.15.255.255", "just below 172.16/12"],
  ["172.32.0.1", "just above 172.16/12"],
  ["100.63.255.255", "just below CGNAT"],
  ["100.128.0.1", "just above CGNAT"],
  ["169.253.255.255", "just below link-local"],
  ["192.167.255.255", "just below 192.168/16"],
  ["198.17.255.255", "just below benchmarking"],
  ["198.20.0.1", "just above benchmarking"],
  ["223.255.255.255", "just below multicast"],
  ["11.0.0.1", "just above 10/8"],
  ["126.255.255.255", "just below loopback"],
  ["128.0.0.1", "just above loopback"],
  ["2606:4700:4700::1111", "Cloudflare DNS IPv6"],
  ["2001:4860:4860::8888", "Google DNS IPv6"],
  ["2a00:1450:4001:82b::200e", "public IPv6"],
  ["[2606:4700:4700::1111]", "public IPv6 in brackets"],
  ["::ffff:8.8.8.8", "IPv4-mapped public"],
  ["::ffff:808:808", "IPv4-mapped public, hex"],
  ["64:ff9b::8.8.8.8", "NAT64 of public"],
  ["2002:808:808::1", "6to4 of public"],
  ["2001:200::1", "just above 2001::/23"],
  ["3ffe:ffff::1", "inside 2000::/3, outside 3fff::/20"]
]

describe("isBlockedAddress", () => {
  it.each(blocked)("blocks %s (%s)", (ip) => {
    expect(isBlockedAddress(ip)).toBe(true)
  })

  it.each(allowed)("allows %s (%s)", (ip) => {
    expect(isBlockedAddress(ip)).toBe(false)
  })
})

describe("parsing", () => {
  it("parses IPv4 dotted quads", () => {
    expect(parseIPv4("0.0.0.0")).toBe(0)
    expect(parseIPv4("255.255.255.255")).toBe(0xffffffff)
    expect(parseIPv4("192.168.1.2")).toBe(0xc0a80102)
  })

  it("expands IPv6 forms to eight groups", () => {
    expect(parseIPv6("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
    expect(parseIPv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1])
    expect(parseIPv6("1::")).toEqual([1, 0, 0, 0, 0, 0, 0, 0])
    expect(parseIPv6("1:2:3:4:5:6:7::")).toEqual([1, 2, 3, 4, 5, 6, 7, 0])
    expect(parseIPv6("::2:3:4:5:6:7:8")).toEqual([0, 2, 3, 4, 5, 6, 7, 8])
    expect(parseIPv6("::ffff:1.2.3.4")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304])
    expect(parseIPv6("1:2:3:4:5:6:1.2.3.4")).toEqual([1, 2, 3, 4, 5, 6, 0x0102, 0x0304])
    expect(parseIPv6("fe80::1%eth0")).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1])
  })

  it("rejects what is not an IPv6 literal", () => {
    for (const text of ["1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", ":::", "::ffff:1.2.3.256", "[::1"]) {
      expect(parseIPv6(text)).toBeUndefined()
    }
  })
})

describe("properties", () => {
  it("parses every IPv4 and IPv6 literal Node accepts", () => {
    fc.assert(fc.property(fc.ipV4(), (ip) => isIP(ip) === 4 && parseIPv4(ip) !== undefined))
    fc.assert(fc.property(fc.ipV6(), (ip) => isIP(ip) === 6 && parseIPv6(ip) !== undefined))
  })

  it("judges an IPv4-mapped or NAT64 address by its IPv4 address", () => {
    fc.assert(fc.property(fc.ipV4(), (ip) => {
      const expected = isBlockedAddress(ip)
      return isBlockedAddress(`::ffff:${ip}`) === expected && isBlockedAddress(`64:ff9b::${ip}`) === expected
    }))
  })
})
