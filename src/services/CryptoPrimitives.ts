import { Context } from "effect"

/**
 * Hashing, checksums and comparison the runtime provides natively (Node:
 * `node:crypto`, `node:zlib`). Synchronous on purpose: the gateway's hot path
 * hashes every presented credential, and an asynchronous digest would queue on
 * the thread pool bcrypt keeps busy.
 */
export interface CryptoPrimitivesShape {
  /** Lowercase hex SHA-256 of the UTF-8 bytes of `text`. */
  readonly sha256Hex: (text: string) => string
  /** CRC-32 (IEEE 802.3, as zlib and PNG compute it) of the UTF-8 bytes of `text`, unsigned. */
  readonly crc32: (text: string) => number
  /**
   * Whether `a` and `b` are equal, in a time that depends neither on where they
   * differ nor on their lengths (both are hashed to a fixed length first).
   */
  readonly timingSafeEqual: (a: string, b: string) => boolean
  /**
   * HMAC-SHA256 of `data` keyed with `key`, for webhook signatures: one native
   * call per attempt (an asynchronous WebCrypto sign is a thread-pool job each).
   */
  readonly hmacSha256: (key: Uint8Array, data: Uint8Array) => Uint8Array
}

export class CryptoPrimitives extends Context.Tag("integration-service/CryptoPrimitives")<
  CryptoPrimitives,
  CryptoPrimitivesShape
>() {}
