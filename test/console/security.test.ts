/**
 * The ops console's safety in real headless Chromium against the real service:
 * a wrong token refused (in words, nothing kept), the token in sessionStorage
 * only, the Content-Security-Policy sent and enforced, a signing secret gone
 * from the page once dismissed, hostile values shown as text, and the console's
 * routes answering odd file names with a 4xx.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { adminFetch, adminToken, baseUrl, TestApp } from "../support/app.ts"
import { newPage, scopedChromium } from "../support/browser.ts"
import { startReceiver } from "../support/receiver.ts"
import { subscribe, uniqueStore } from "../webhooks/deliveryHelpers.ts"
import { alertText, goTo, nothingRan, openConsole, signIn, step, viewShown } from "./consoleHelpers.ts"

const prefix = `console-sec-${randomUUID().slice(0, 8)}`
const hostile = "<script>window.__pwned=1</script>"
const hostileImage = "<img src=x onerror=\"window.__pwned=1\">"

/** Everything the page holds: its markup and both storages. */
const everything = (page: import("playwright-core").Page) =>
  step(() => Promise.all([page.content(), page.evaluate<string>("JSON.stringify([{ ...sessionStorage }, { ...localStorage }, document.cookie])")]))
    .pipe(Effect.map((parts) => parts.join("\n")))

describe("ops console: sign-in, CSP, secrets and hostile values (headless Chromium, real PostgreSQL and Kafka)", () => {
  layer(TestApp({ eventTopics: new RegExp(`^${prefix}\\.`), groupId: prefix }), { excludeTestServices: true, timeout: 120_000 })((it) => {
    it.scoped("the page and its files are served with a strict Content-Security-Policy, and the browser enforces it", () =>
      Effect.gen(function*() {
        const base = yield* baseUrl
        for (const path of ["/console", "/console/app.js", "/console/console.css"]) {
          const response = yield* step(() => fetch(`${base}${path}`))
          expect(response.status, path).toBe(200)
          const csp = response.headers.get("content-security-policy") ?? ""
          expect(csp).toContain("default-src 'self'")
          expect(csp).toContain("script-src 'self'")
          expect(csp).not.toContain("unsafe-inline")
          expect(csp).toContain("frame-ancestors 'none'")
          expect(response.headers.get("x-content-type-options")).toBe("nosniff")
        }
        const page = yield* step(() => fetch(`${base}/console`).then((r) => r.text()))
        // No inline script or style, nothing from another origin.
        expect(page).not.toMatch(/<script(?![^>]*\bsrc="\/console\/)/)
        expect(page).not.toMatch(/style=|https?:\/\//)

        const context = yield* scopedChromium()
        const { page: browserPage } = yield* openConsole(context, uniqueStore("csp"))
        yield* viewShown(browserPage, "Overview")
        const ran = yield* step(() =>
          browserPage.evaluate<unknown>(`(() => {
            const s = document.createElement("script"); s.textContent = "window.__inline = 1"; document.body.append(s)
            return window.__inline ?? null
          })()`))
        expect(ran).toBeNull()
      }))

    it.scoped("odd console file names are answered 400 (naming the file) or 404, never 500", () =>
      Effect.gen(function*() {
        const base = yield* baseUrl
        for (const [path, status] of [
          ["/console/nope.js", 404],
          ["/console/..%2Fapi.js", 400],
          ["/console/app.js%00", 400],
          ["/console/%3Cscript%3E.js", 400],
          ["/console/index.html", 400],
          // Longer than the router takes in a path segment: a 400 naming it, like any invalid path parameter.
          [`/console/${"a".repeat(300)}.js`, 400]
        ] as const) {
          const response = yield* step(() => fetch(`${base}${path}`))
          expect(response.status, path).toBe(status)
        }
      }))

    it.scoped("a wrong token is refused in words and kept nowhere; the right one lives in sessionStorage only", () =>
      Effect.gen(function*() {
        const base = yield* baseUrl
        const storeId = uniqueStore("auth")
        const context = yield* scopedChromium()
        const { page, problems } = yield* step(() => newPage(context))
        yield* step(() => page.goto(`${base}/console`))
        yield* signIn(page, storeId, "not-the-admin-token-0123456789")
        expect(yield* alertText(page)).toContain("The admin token was refused.")
        yield* step(() => page.getByRole("heading", { name: "Sign in" }).waitFor())
        expect(yield* everything(page)).not.toContain("not-the-admin-token")

        yield* step(() => page.getByLabel("Admin token").focus())
        yield* signIn(page, storeId, adminToken)
        yield* viewShown(page, "Overview")
        expect(yield* step(() => page.evaluate<Array<string>>("Object.values(sessionStorage)"))).toContain(adminToken)
        expect(yield* step(() => page.evaluate<number>("localStorage.length"))).toBe(0)
        expect(yield* step(() => page.evaluate<string>("document.cookie"))).toBe("")
        expect(page.url()).not.toContain(adminToken)
        expect(yield* step(() => page.content())).not.toContain(adminToken)

        // Signing out forgets it.
        yield* step(() => page.getByRole("button", { name: "Sign out" }).click())
        yield* step(() => page.getByRole("heading", { name: "Sign in" }).waitFor())
        expect(yield* everything(page)).not.toContain(adminToken)
        yield* nothingRan(page, problems)
      }))

    it.scoped("a new subscription's signing secret, and a rotated one, are shown once and gone from the page when dismissed", () =>
      Effect.gen(function*() {
        const receiver = yield* startReceiver()
        const storeId = uniqueStore("secret")
        const context = yield* scopedChromium()
        const { page, problems } = yield* openConsole(context, storeId)
        yield* goTo(page, "Subscriptions")
        yield* step(() => page.getByLabel("Name").fill("ERP"))
        yield* step(() => page.getByLabel("Target URL").fill(`${receiver.url}/hook`))
        yield* step(() => page.getByLabel("Event types").fill("order.placed, order.updated"))
        yield* step(() => page.getByRole("button", { name: "Create subscription" }).click())

        const shown = page.locator("[data-secret]")
        const secret = (yield* step(async () => {
          await shown.waitFor()
          return shown.textContent()
        })) ?? ""
        expect(secret).toMatch(/^whsec_/)
        const [listed] = (yield* adminFetch(`/stores/${storeId}/webhooks`)).body.items
        expect(listed).toMatchObject({ name: "ERP", events: ["order.placed", "order.updated"], isActive: true })
        yield* step(() => page.getByRole("button", { name: /I have stored it/ }).click())
        expect(yield* everything(page)).not.toContain(secret)
        expect(yield* everything(page)).not.toContain(secret.slice(6, 30))

        // Pause, then rotate: the new secret is shown once, then gone too.
        yield* step(() => page.getByRole("button", { name: "Pause ERP" }).click())
        yield* step(() => page.getByRole("button", { name: "Resume ERP" }).waitFor())
        expect((yield* adminFetch(`/stores/${storeId}/webhooks/${listed.id}`)).body.isActive).toBe(false)
        yield* step(() => page.getByRole("button", { name: "Rotate secret of ERP" }).click())
        yield* step(() => page.getByRole("alertdialog").getByRole("button", { name: "Rotate secret" }).click())
        const rotated = (yield* step(async () => {
          await shown.waitFor()
          return shown.textContent()
        })) ?? ""
        expect(rotated).toMatch(/^whsec_/)
        expect(rotated).not.toBe(secret)
        yield* step(() => page.getByRole("button", { name: /I have stored it/ }).click())
        expect(yield* everything(page)).not.toContain(rotated)
        yield* nothingRan(page, problems)
      }))

    it.scoped("hostile store ids and event types (markup, NUL) are refused by the API and its words shown as text", () =>
      Effect.gen(function*() {
        const base = yield* baseUrl
        const context = yield* scopedChromium()
        const { page, problems } = yield* step(() => newPage(context))
        yield* step(() => page.goto(`${base}/console`))
        for (const storeId of [hostile, "a\u0000b", hostileImage]) {
          yield* signIn(page, storeId, adminToken)
          const said = yield* alertText(page)
          expect(said).toContain("The service refused the request: storeId")
          yield* step(() => page.getByRole("heading", { name: "Sign in" }).waitFor())
          yield* step(() => page.getByLabel("Admin token").focus())
        }
        yield* nothingRan(page, problems)

        const storeId = uniqueStore("hostile")
        const receiver = yield* startReceiver()
        yield* subscribe(storeId, `${receiver.url}/hook`)
        yield* signIn(page, storeId, adminToken)
        yield* goTo(page, "Deliveries")
        for (const eventType of [hostile, "order.\u0000placed"]) {
          yield* step(() => page.getByLabel("Event type").fill(eventType))
          yield* step(() => page.getByRole("button", { name: "Apply filters" }).click())
          expect(yield* alertText(page)).toContain("The service refused the request: eventType")
          yield* step(() => page.getByRole("alert").getByRole("button", { name: "Dismiss" }).click())
        }
        yield* nothingRan(page, problems)
      }))

    it.scoped("hostile subscription and credential names are shown as the characters they are", () =>
      Effect.gen(function*() {
        const storeId = uniqueStore("names")
        const receiver = yield* startReceiver()
        const created = yield* adminFetch(`/stores/${storeId}/webhooks`, {
          method: "POST",
          body: { name: hostileImage, targetUrl: `${receiver.url}/${hostile}`, events: ["*"] }
        })
        expect(created.status, JSON.stringify(created.body)).toBe(201)
        const issued = yield* adminFetch(`/stores/${storeId}/credentials`, {
          method: "POST",
          body: { name: hostile, type: "API_KEY", scopes: ["orders:read"] }
        })
        expect(issued.status, JSON.stringify(issued.body)).toBe(201)
        const context = yield* scopedChromium()
        const { page, problems } = yield* openConsole(context, storeId)
        yield* goTo(page, "Subscriptions")
        yield* step(() => page.getByRole("cell", { name: hostileImage, exact: true }).waitFor())
        yield* goTo(page, "Credentials")
        yield* step(() => page.getByRole("cell", { name: hostile, exact: true }).waitFor())
        expect(yield* everything(page)).not.toContain(issued.body.secret)
        yield* nothingRan(page, problems)
      }))
  })
})
