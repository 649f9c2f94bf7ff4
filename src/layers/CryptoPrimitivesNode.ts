import { Layer } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import { crc32 } from "node:zlib"
import { CryptoPrimitives, type CryptoPrimitivesShape } from "../services/CryptoPrimitives.ts"

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest()

/** node:crypto (OpenSSL) and node:zlib (zlib's crc32, Node ≥ 20.15), all synchronous and native. */
export const cryptoPrimitivesNode: CryptoPrimitivesShape = {
  sha256Hex: (text) => createHash("sha256").update(text, "utf8").digest("hex"),
  crc32: (text) => crc32(text) >>> 0,
  // timingSafeEqual needs equal lengths: comparing digests hides the lengths too.
  timingSafeEqual: (a, b) => timingSafeEqual(sha256(a), sha256(b))
}

export const CryptoPrimitivesNode = Layer.succeed(CryptoPrimitives, cryptoPrimitivesNode)
