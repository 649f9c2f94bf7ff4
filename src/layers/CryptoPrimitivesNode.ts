import { Layer } from "effect"
import { createHmac, hash, timingSafeEqual } from "node:crypto"
import { crc32 } from "node:zlib"
import { CryptoPrimitives, type CryptoPrimitivesShape } from "../services/CryptoPrimitives.ts"

// crypto.hash (Node ≥ 20.12): one call, no Hash object; strings are hashed as UTF-8.
const sha256 = (text: string) => hash("sha256", text, "buffer")

/** node:crypto (OpenSSL) and node:zlib (zlib's crc32, Node ≥ 20.15), all synchronous and native. */
export const cryptoPrimitivesNode: CryptoPrimitivesShape = {
  sha256Hex: (text) => hash("sha256", text, "hex"),
  crc32: (text) => crc32(text) >>> 0,
  // timingSafeEqual needs equal lengths: comparing digests hides the lengths too.
  timingSafeEqual: (a, b) => timingSafeEqual(sha256(a), sha256(b)),
  hmacSha256: (key, data) => {
    const mac = createHmac("sha256", key).update(data).digest()
    return new Uint8Array(mac.buffer, mac.byteOffset, mac.byteLength)
  }
}

export const CryptoPrimitivesNode = Layer.succeed(CryptoPrimitives, cryptoPrimitivesNode)
