/** Shared steps of the console's browser tests: a page on the test app, signed in. */
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import type { BrowserContext, Page } from "playwright-core"
import { adminToken, baseUrl } from "../support/app.ts"
import { newPage } from "../support/browser.ts"

/** Playwright calls inside Effect.gen (a failed expectation fails the test). */
export const step = <A>(run: () => Promise<A>) => Effect.promise(run)

/** A console page, signed in with the admin token for `storeId` (by keyboard: labels, focus order, Enter). */
export const openConsole = (context: BrowserContext, storeId: string) =>
  Effect.gen(function*() {
    const base = yield* baseUrl
    const { page, problems } = yield* step(() => newPage(context))
    yield* step(() => page.goto(`${base}/console`))
    yield* signIn(page, storeId, adminToken)
    // Signed in once the landing view shows (the token is in sessionStorage by then).
    yield* viewShown(page, "Overview")
    return { page, problems, base }
  })

/** Types the token and the store into the sign-in form and presses Enter. */
export const signIn = (page: Page, storeId: string, token: string) =>
  step(async () => {
    const tokenField = page.getByLabel("Admin token")
    await tokenField.waitFor()
    // The form puts the focus on the token field; the store id is the next Tab stop.
    await expect.poll(() => page.evaluate<string | undefined>("document.activeElement?.name")).toBe("token")
    // Whatever a previous try left in the fields is replaced.
    await page.keyboard.press("ControlOrMeta+A")
    await page.keyboard.type(token)
    await page.keyboard.press("Tab")
    await page.keyboard.press("ControlOrMeta+A")
    await page.keyboard.type(storeId)
    await page.keyboard.press("Enter")
  })

/** Waits until the signed-in view `title` shows. */
export const viewShown = (page: Page, title: string) =>
  step(() => page.getByRole("heading", { level: 1, name: new RegExp(`^${title}`) }).waitFor())

/** Goes to a view through the navigation, as a user does. */
export const goTo = (page: Page, label: string) =>
  Effect.gen(function*() {
    yield* step(() => page.getByRole("navigation", { name: "Views" }).getByRole("link", { name: label }).click())
    yield* viewShown(page, label)
  })

/** The text the alert region shows (errors in words). */
export const alertText = (page: Page) =>
  step(async () => {
    const alert = page.getByRole("alert")
    await alert.waitFor()
    return (await alert.textContent()) ?? ""
  })

/** Nothing a hostile value could have run: no extra script, no handler fired, no dialog. */
export const nothingRan = (page: Page, problems: ReadonlyArray<string>) =>
  step(async () => {
    // Evaluated in the page (the project's TypeScript has no DOM types).
    const seen = await page.evaluate<{ scripts: Array<string>; pwned: unknown; images: number }>(`({
      scripts: [...document.scripts].map((s) => s.src),
      pwned: window.__pwned ?? null,
      images: document.images.length
    })`)
    expect(seen.scripts.map((src) => new URL(src).pathname)).toEqual(["/console/app.js"])
    expect(seen.pwned).toBeNull()
    expect(seen.images).toBe(0)
    expect(problems.filter((p) => p.startsWith("dialog") || p.startsWith("pageerror"))).toEqual([])
  })
