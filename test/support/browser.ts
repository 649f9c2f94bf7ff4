/**
 * Headless Chromium from Debian's `chromium` package, driven by playwright-core
 * (which never downloads a browser): for the console's browser tests and the
 * README screenshot (scripts/console-screenshot.ts). scripts/test.sh installs
 * the package when it is missing.
 */
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type BrowserContext, chromium, type Page } from "playwright-core"

export const chromiumPath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"

/** Nothing reaches out: no QUIC, no background fetches, no updates, no sync, no first-run pages. */
export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

/** A fresh profile in a fresh temporary directory (removed on close). */
export const launchChromium = async (viewport = { width: 1280, height: 900 }) => {
  const userDataDir = mkdtempSync(join(tmpdir(), "console-chromium-"))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport,
    // The same dates on every machine (the console shows times in the browser's zone).
    timezoneId: "UTC",
    locale: "en-US"
  })
  const close = async () => {
    await context.close().catch(() => undefined)
    rmSync(userDataDir, { recursive: true, force: true })
  }
  return { context, close }
}

/** A browser for the length of a scope. */
export const scopedChromium = (viewport?: { width: number; height: number }) =>
  Effect.acquireRelease(
    Effect.promise(() => launchChromium(viewport)),
    (browser) => Effect.promise(() => browser.close())
  ).pipe(Effect.map((browser) => browser.context))

/** A new page that records every console error and uncaught exception of the page (asserted empty by tests). */
export const newPage = async (context: BrowserContext) => {
  const page: Page = await context.newPage()
  const problems: Array<string> = []
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`))
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`)
  })
  page.on("dialog", (dialog) => {
    problems.push(`dialog: ${dialog.message()}`)
    void dialog.dismiss()
  })
  return { page, problems }
}
