/**
 * What PostgreSQL's jsonb cannot store (a NUL, a lone surrogate) is found
 * however it is written in the message, in a value or in a key, at any depth;
 * text with no such escape is not walked, and an escape that only looks like
 * one (an escaped backslash) or a well-formed surrogate pair is taken in.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { inspectMessage } from "../../src/domain/envelopeChecks.ts"

const limits = { maxBytes: 1_000_000, maxDepth: 32 }
const envelope = (data: string) =>
  `{"eventId":"3f1c2b9e-8a41-4c3d-9e55-0b6f2d7a1c10","eventType":"order.placed","storeId":"store-1",` +
  `"occurredAt":"2026-12-03T10:00:00.000Z","data":${data}}`
const inspect = (text: string) => inspectMessage(new TextEncoder().encode(text), limits)
const reasonOf = (result: ReturnType<typeof inspectMessage>) =>
  Either.match(result, { onLeft: (r) => r.reason, onRight: () => "accepted" })

describe("inspectMessage: strings jsonb cannot store", () => {
  it.each([
    ["a NUL in a value", `{"note":"a\\u0000b"}`],
    ["a lone high surrogate", `{"note":"\\ud800"}`],
    ["a lone high surrogate, upper case", `{"note":"x\\uDBFFy"}`],
    ["a lone low surrogate", `{"note":"\\udc00"}`],
    ["a low surrogate before a high one", `{"note":"\\uDE00\\uD83D"}`],
    ["a NUL in a key", `{"a\\u0000":1}`],
    ["a NUL deep in arrays", `{"items":[[{"x":["ok","\\u0000"]}]]}`]
  ])("%s is quarantined as unstorable", (_, data) => {
    const result = inspect(envelope(data))
    expect(Either.isLeft(result) && result.left.reason).toBe("unstorable_string")
    // Where, never what.
    expect(Either.isLeft(result) && result.left.detail).not.toContain("\u0000")
    expect(Either.isLeft(result) && result.left.storeId).toBe("store-1")
  })

  it.each([
    ["plain text", `{"note":"plain"}`],
    ["an escaped backslash before u0000", `{"note":"\\\\u0000"}`],
    ["an escaped surrogate pair", `{"note":"\\uD83D\\uDE00"}`],
    ["a raw emoji", `{"note":"😀"}`],
    ["other escapes", `{"note":"\\u0041\\u00e9\\n\\t"}`]
  ])("%s is taken in", (_, data) => {
    expect(reasonOf(inspect(envelope(data)))).toBe("accepted")
  })

  // Why only escapes need looking for: the same characters unescaped never get that far.
  it("a raw NUL byte is not JSON, a CESU-encoded surrogate is not UTF-8", () => {
    const raw = (data: Array<number>) => {
      const [before, after] = envelope(`{"note":"#"}`).split("#")
      return inspectMessage(new Uint8Array([...new TextEncoder().encode(before), ...data, ...new TextEncoder().encode(after)]), limits)
    }
    expect(reasonOf(raw([0x61, 0x00]))).toBe("invalid_json")
    expect(reasonOf(raw([0xed, 0xa0, 0x80]))).toBe("invalid_utf8")
  })

  it("the data comes out as it went in", () => {
    const result = inspect(envelope(`{"note":"\\\\u0000","pair":"\\uD83D\\uDE00"}`))
    expect(Either.isRight(result) && result.right.data).toEqual({ note: "\\u0000", pair: "😀" })
  })
})
