/**
 * The README's picture of the ops console (docs/console.png), against a running
 * service in dev mode (`npm start`): a receiver that fails one delivery in
 * three, a subscription to it, a few dozen test events, then the landing view.
 *
 *   BASE_URL=http://localhost:8080 ADMIN_TOKEN=… npx tsx scripts/console-screenshot.ts [docs/console.png]
 *
 * EVENTS (default 40) events are published; with MINUTES=n (default 1) they are
 * spread over n minutes, so the chart has more than one bar.
 */
import { mkdirSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { dirname } from "node:path"
import { launchChromium } from "../test/support/browser.ts"

const base = process.env["BASE_URL"] ?? "http://localhost:8080"
const token = process.env["ADMIN_TOKEN"] ?? ""
const out = process.argv[2] ?? "docs/console.png"
const store = process.env["STORE_ID"] ?? "store-1"
const events = Number(process.env["EVENTS"] ?? 40)
const minutes = Math.max(1, Number(process.env["MINUTES"] ?? 1))

const call = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  return response.json() as Promise<any>
}

let received = 0
const receiver = createServer((req, res) => {
  req.resume()
  req.on("end", () => {
    received++
    res.statusCode = received % 3 === 0 ? 503 : 200
    res.end(res.statusCode === 200 ? "ok" : "busy, try later")
  })
})
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`

await call("POST", `/stores/${store}/webhooks`, { name: "Order sync (ERP)", targetUrl: receiverUrl, events: ["order.placed"] })
await call("POST", `/stores/${store}/webhooks`, { name: "Analytics", targetUrl: receiverUrl, events: ["*"], isActive: false })
const perMinute = Math.ceil(events / minutes)
for (let i = 0; i < events; i++) {
  if (i > 0 && i % perMinute === 0) await new Promise((r) => setTimeout(r, 60_000))
  await call("POST", "/dev/events", { eventType: "order.placed", storeId: store, data: { orderId: `o-${i}` } })
}
// Until every event was attempted once.
for (let tries = 0; received < events && tries < 100; tries++) await new Promise((r) => setTimeout(r, 200))

const { context, close } = await launchChromium({ width: 1280, height: 860 })
try {
  const page = await context.newPage()
  await page.goto(`${base}/console`)
  await page.getByLabel("Admin token").fill(token)
  await page.getByLabel("Store id").fill(store)
  await page.getByRole("button", { name: "Sign in" }).click()
  await page.locator("svg.chart").waitFor()
  mkdirSync(dirname(out), { recursive: true })
  await page.screenshot({ path: out, fullPage: true })
  console.log(`wrote ${out} (${received} deliveries attempted)`)
} finally {
  await close()
  receiver.close()
}
