/**
 * Webhook signing: WebCrypto's asynchronous HMAC (a thread-pool job per
 * signature, at 128 in flight like the webhook lane) beside the synchronous
 * node:crypto HMAC the lane signs with (the CryptoPrimitives port), same key
 * and body, in one run. Prints signatures/s of each and their ratio.
 *
 *   npx tsx bench/signing.ts            (BENCH_SIGNATURES per round, default 20000; 3 rounds)
 */
import { cryptoPrimitivesNode } from "../src/layers/CryptoPrimitivesNode.ts"
import { intEnv } from "./support/run.ts"

const signatures = intEnv("BENCH_SIGNATURES", 20_000)
const body = new TextEncoder().encode(JSON.stringify({ eventId: "0b7c6f3e-5a43-4c8e-9d59-3f1c0e2a9b11", data: { pad: "x".repeat(256) } }))
const keyBytes = crypto.getRandomValues(new Uint8Array(32))
const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])

for (let round = 1; round <= 3; round++) {
  let started = performance.now()
  let next = 0
  await Promise.all(Array.from({ length: 128 }, async () => {
    while (next++ < signatures) await crypto.subtle.sign("HMAC", key, body)
  }))
  const webCrypto = performance.now() - started
  started = performance.now()
  for (let i = 0; i < signatures; i++) cryptoPrimitivesNode.hmacSha256(keyBytes, body)
  const native = performance.now() - started
  const rate = (ms: number) => Math.round((signatures / ms) * 1000).toLocaleString("en-US")
  console.log(`round ${round}: WebCrypto ${rate(webCrypto)}/s, node:crypto ${rate(native)}/s, ${(webCrypto / native).toFixed(1)}× faster`)
}
