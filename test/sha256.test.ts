import { createHash } from "node:crypto"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { sha256HexSync } from "../src/domain/sha256.ts"

describe("sha256 (plain TypeScript)", () => {
  it("matches node:crypto on known vectors and block boundaries", () => {
    for (const text of ["", "abc", "a".repeat(55), "a".repeat(56), "a".repeat(63), "a".repeat(64), "a".repeat(1000), "é✓𝄞"]) {
      expect(sha256HexSync(text)).toBe(createHash("sha256").update(text, "utf8").digest("hex"))
    }
    expect(sha256HexSync("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  })

  it("matches node:crypto on thousands of random strings", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) =>
      sha256HexSync(text) === createHash("sha256").update(text, "utf8").digest("hex")), { numRuns: 3000 })
  })
})
