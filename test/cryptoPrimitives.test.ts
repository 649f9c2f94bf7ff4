/**
 * The CryptoPrimitives port's Node layer: SHA-256 (node:crypto), CRC32
 * (node:zlib) and constant-time equality; and the credential checksum, now on
 * zlib's CRC32, still accepting every key issued before (computed then by a
 * table in TypeScript, kept here only as the reference).
 */
import fc from "fast-check"
import { createHash } from "node:crypto"
import { describe, expect, it } from "vitest"
import { credentialKeys, newClientId } from "../src/domain/credentials/keys.ts"
import { cryptoPrimitivesNode as node } from "../src/layers/CryptoPrimitivesNode.ts"

/** The CRC32 credentials were issued with until node:zlib computed it (reference only). */
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
const referenceCrc32 = (text: string) => {
  let crc = 0xffffffff
  for (let i = 0; i < text.length; i++) crc = crcTable[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

/** Issued by the service before the checksum moved to node:zlib. */
const issuedBefore = {
  apiKeys: [
    "ss3k_0R0d64TbmuDlptBK_ZfJALy0gLJCGgvqhR860vUwt7C4gZzsp3HexUW",
    "ss3k_u7fWDuGtfUV8qSwn_QEC9fhAvuGq47HVVyT0KeGcu8wsfBrAU4NO6Dt",
    "ss3k_fvJUTCCcAw5iGAGD_saka2oK02SgtKPJZw5NyK5PpURWeVACz1FY689"
  ],
  clients: [
    ["ss3c_o8OlOHEh2eIW5MnM", "ss3s_mcTDGCsS4zgRJIll7mvzYhhlj5id07eC1nLx7a"],
    ["ss3c_jtQTxblVlFUvYAxs", "ss3s_XkDuGOujWBuhyo1G3pKRmlaUFkXaYzEG0tlCQ8"],
    ["ss3c_SOHU7lrQ7Gb9hK08", "ss3s_Ash7SCfCQiCY3RjyoequtpzXubDfU9io2sUHDV"]
  ] as const
}

const base62 = fc.string({ unit: fc.constantFrom(..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"), maxLength: 80 })

describe("CryptoPrimitives (Node)", () => {
  it("sha256Hex: the standard vectors, UTF-8 of any text", () => {
    expect(node.sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    expect(node.sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    // The UTF-8 bytes (c3 a9), not one byte per UTF-16 unit.
    expect(node.sha256Hex("é")).toBe(createHash("sha256").update(Buffer.from([0xc3, 0xa9])).digest("hex"))
  })

  it("crc32: zlib's, equal to the table the service used before on every ASCII string", () => {
    expect(node.crc32("")).toBe(0)
    expect(node.crc32("123456789")).toBe(0xcbf43926)
    fc.assert(fc.property(base62, (text) => node.crc32(text) === referenceCrc32(text)), { numRuns: 5000 })
  })

  it("credentials issued before still parse; new ones carry the same checksum the old code computed", () => {
    const keys = credentialKeys(node.crc32)
    const before = credentialKeys(referenceCrc32)
    for (const key of issuedBefore.apiKeys) expect(keys.parseApiKey(key)._tag, key).toBe("Some")
    for (const [id, secret] of issuedBefore.clients) expect(keys.parseClientCredentials(id, secret)._tag, id).toBe("Some")
    for (let i = 0; i < 200; i++) {
      const key = keys.newSecret("API_KEY", newClientId("API_KEY")).presented
      expect(before.parseApiKey(key)._tag).toBe("Some")
      const id = newClientId("OAUTH_CLIENT")
      expect(before.parseClientCredentials(id, keys.newSecret("OAUTH_CLIENT", id).presented)._tag).toBe("Some")
    }
  })

  it("timingSafeEqual: equality of any two strings, whatever their lengths", () => {
    expect(node.timingSafeEqual("admin-token", "admin-token")).toBe(true)
    expect(node.timingSafeEqual("admin-token", "admin-token-and-more")).toBe(false)
    expect(node.timingSafeEqual("admin-token", "admin-toke")).toBe(false)
    expect(node.timingSafeEqual("", "")).toBe(true)
    expect(node.timingSafeEqual("", "x")).toBe(false)
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => node.timingSafeEqual(a, b) === (a === b)), { numRuns: 2000 })
  })

  it("hmacSha256: RFC 4231's vectors, and the same MAC as WebCrypto on any bytes", async () => {
    const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
    const bytes = (text: string) => new TextEncoder().encode(text)
    // RFC 4231 test cases 1 and 2.
    expect(hex(node.hmacSha256(new Uint8Array(20).fill(0x0b), bytes("Hi There"))))
      .toBe("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    expect(hex(node.hmacSha256(bytes("Jefe"), bytes("what do ya want for nothing?"))))
      .toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    for (let i = 0; i < 50; i++) {
      const key = crypto.getRandomValues(new Uint8Array(1 + Math.floor(Math.random() * 100)))
      const data = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 5000)))
      const webKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
      const expected = new Uint8Array(await crypto.subtle.sign("HMAC", webKey, data))
      expect(hex(node.hmacSha256(key, data))).toBe(hex(expected))
    }
  })
})
