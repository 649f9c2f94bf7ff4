import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"

/** `npm start` is `tsx src/cli/main.ts dev`: run exactly that, on a free port and a fresh data dir. */
const startDev = (dataDir: string) => {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "dev", "--data-dir", dataDir], {
    env: { ...process.env, PORT: "0", DATABASE_URL: "", KAFKA_BROKERS: "" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout.on("data", (chunk) => (output += chunk))
  child.stderr.on("data", (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const banner = new Promise<{ address: string; token: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dev mode did not start:\n${output}`)), 60_000)
    const look = () => {
      const address = /HTTP\s+(http:\/\/\S+)/.exec(output)?.[1]
      const token = /admin token\s+(\S+)/.exec(output)?.[1]
      if (address && token) {
        clearTimeout(timer)
        resolve({ address, token })
      }
    }
    child.stdout.on("data", look)
    exited.then(() => reject(new Error(`dev mode exited:\n${output}`)))
  })
  return { child, banner, exited, output: () => output }
}

describe("dev mode (npm start)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "is-dev-"))
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it("boots with nothing installed, answers /healthz and /readyz, takes a test event, and stops cleanly on SIGTERM", async () => {
    const dev = startDev(dataDir)
    try {
      const { address, token } = await dev.banner
      expect(token).toMatch(/^dev_admin_/)

      const health = await fetch(`${address}/healthz`)
      expect(health.status).toBe(200)
      expect(await health.json()).toEqual({ status: "ok" })

      const ready = await fetch(`${address}/readyz`)
      expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok", eventBus: "in-process" } })

      const openapi = await (await fetch(`${address}/openapi.json`)).json() as { paths: Record<string, unknown> }
      expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(["/healthz", "/readyz"]))
      expect(Object.keys(openapi.paths).filter((path) => path.startsWith("/console"))).toEqual([])

      // The ops console is served in dev mode too, with its policy.
      const page = await fetch(`${address}/console`)
      expect(page.status).toBe(200)
      expect(page.headers.get("content-security-policy")).toContain("default-src 'self'")
      expect(await page.text()).toContain(`<script type="module" src="/console/app.js"></script>`)
      expect(dev.output()).toContain(`ops console   ${address}/console`)

      const event = { eventType: "order.placed", storeId: "store-1", data: { orderId: "o-1" } }
      const unauthorized = await fetch(`${address}/dev/events`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(event)
      })
      expect(unauthorized.status).toBe(401)
      const published = await fetch(`${address}/dev/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(event)
      })
      expect(published.status).toBe(202)
      expect(await published.json()).toMatchObject({ topic: "order.placed" })

      const invalid = await fetch(`${address}/dev/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ storeId: "store-1" })
      })
      expect(invalid.status).toBe(400)
      const body = await invalid.json() as { error: string; message: string }
      expect(body.error).toBe("invalid_request")
      expect(body.message).toContain("eventType")

      dev.child.kill("SIGTERM")
      expect(await dev.exited).toBe(0)
    } finally {
      dev.child.kill("SIGKILL")
    }
  }, 90_000)

  it("keeps its admin token across restarts (the data dir holds it)", async () => {
    const first = startDev(dataDir)
    const { token } = await first.banner
    first.child.kill("SIGTERM")
    await first.exited
    const second = startDev(dataDir)
    try {
      expect((await second.banner).token).toBe(token)
    } finally {
      second.child.kill("SIGTERM")
      await second.exited
    }
  }, 90_000)

  it("npm start: the CLI finds it through .data/dev-server.json (mode 0600); SIGTERM to npm stops it, no orphan", async () => {
    const home = mkdtempSync(join(tmpdir(), "is-npm-start-"))
    const data = join(home, ".data")
    mkdirSync(data)
    const npm = spawn("npm", ["start", "--", "--data-dir", data], {
      env: { ...process.env, PORT: "0", DATABASE_URL: "", KAFKA_BROKERS: "", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    npm.stdout.on("data", (chunk) => (output += chunk))
    npm.stderr.on("data", (chunk) => (output += chunk))
    const exited = new Promise<number | null>((resolve) => npm.on("exit", (code) => resolve(code)))
    try {
      const address = await new Promise<string>((resolve, reject) => {
        const look = () => {
          const found = /HTTP\s+(http:\/\/\S+)/.exec(output)?.[1]
          if (found && existsSync(join(data, "dev-server.json"))) resolve(found)
        }
        npm.stdout.on("data", look)
        exited.then(() => reject(new Error(`npm start exited:\n${output}`)))
      })
      expect(address).not.toBe("http://localhost:8080")
      // The banner's commands are for the port bound.
      expect(output).toContain(`export INTEGRATION_SERVICE_URL=${address}`)
      const file = join(data, "dev-server.json")
      expect(statSync(file).mode & 0o777).toBe(0o600)
      const server = JSON.parse(readFileSync(file, "utf8")) as { url: string; adminToken: string; pid: number }
      expect(server.url).toBe(address)

      // No --url, no --token: run from the directory that holds .data, as a user would.
      const cli = (args: Array<string>) =>
        spawnSync(process.execPath, [join(process.cwd(), "bin/integration-service.mjs"), ...args], {
          cwd: home,
          encoding: "utf8",
          env: { ...process.env, ADMIN_TOKEN: "", INTEGRATION_SERVICE_URL: "" }
        })
      const listed = cli(["deliveries", "list", "--store", "store-1"])
      expect(listed.stderr).toBe("")
      expect(listed.stdout.trim()).toBe("no deliveries")
      const status = cli(["status"])
      expect(status.status, status.stdout + status.stderr).toBe(0)
      expect(status.stdout).toMatch(/^event bus\s+in-process/m)

      npm.kill("SIGTERM")
      await exited
      expect(output).toContain("stop requested: shutting down")
      // The service itself is gone (not left running as an orphan), and so is its file.
      expect(() => process.kill(server.pid, 0)).toThrow()
      expect(existsSync(file)).toBe(false)
    } finally {
      npm.kill("SIGKILL")
      rmSync(home, { recursive: true, force: true })
    }
  }, 120_000)
})
