import { randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, Schema, type Scope } from "effect"

/**
 * A stand-in for a Vault server with one KV version 2 mount, answering with the
 * shapes, statuses and quirks of the real API (soft delete returns 404 with the
 * version metadata, delete of a missing secret is 204, errors are `{"errors": [...]}`).
 */
export interface VaultKvDouble {
  /** `http://127.0.0.1:<port>`, for `VAULT_ADDR`. */
  readonly address: string
  /** The one token accepted. */
  readonly token: string
  readonly mount: string
  /** The next requests (after the token check) are answered with these statuses, for retry tests. */
  readonly failNext: (...statuses: ReadonlyArray<number>) => Effect.Effect<void>
  /** While sealed, every request (after the token check) is answered 503 "Vault is sealed", as a sealed Vault does. */
  readonly setSealed: (sealed: boolean) => Effect.Effect<void>
  /** Every request so far, as `METHOD /path?query`. */
  readonly requests: Effect.Effect<ReadonlyArray<string>>
}

interface Version {
  readonly data: Record<string, unknown>
  readonly createdTime: string
  deletionTime: string
  destroyed: boolean
}

interface Secret {
  readonly createdTime: string
  updatedTime: string
  readonly versions: Map<number, Version>
  currentVersion: number
}

const WriteBody = Schema.Struct({
  data: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  options: Schema.optional(Schema.Struct({ cas: Schema.optional(Schema.Int) }))
})

const MAX_BODY_BYTES = 1024 * 1024

const envelope = (data: unknown) => ({
  request_id: randomUUID(),
  lease_id: "",
  renewable: false,
  lease_duration: 0,
  data,
  wrap_info: null,
  warnings: null,
  auth: null,
  mount_type: "kv"
})

const versionMetadata = (version: number, v: Version) => ({
  created_time: v.createdTime,
  custom_metadata: null,
  deletion_time: v.deletionTime,
  destroyed: v.destroyed,
  version
})

export const startVaultKvDouble = (
  options: { readonly token?: string; readonly mount?: string } = {}
): Effect.Effect<VaultKvDouble, never, Scope.Scope> => {
  const token = options.token ?? `hvs.${randomUUID()}`
  const mount = (options.mount ?? "ss3/kv").replace(/^\/+|\/+$/g, "")
  const secrets = new Map<string, Secret>()
  const injected: Array<number> = []
  let sealed = false
  const log: Array<string> = []

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    if (body === undefined) {
      res.writeHead(status).end()
    } else {
      const text = JSON.stringify(body)
      res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" }).end(text)
    }
  }
  const errors = (res: ServerResponse, status: number, ...messages: Array<string>) =>
    send(res, status, { errors: messages })

  const readBody = (req: IncomingMessage): Promise<string | undefined> =>
    new Promise((resolve, reject) => {
      const chunks: Array<Buffer> = []
      let size = 0
      req.on("data", (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_BODY_BYTES) resolve(undefined)
        else chunks.push(chunk)
      })
      req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
      req.on("error", reject)
    })

  const readData = (res: ServerResponse, path: string, query: URLSearchParams) => {
    const secret = secrets.get(path)
    const wanted = query.has("version") ? Number(query.get("version")) : secret?.currentVersion
    const version = wanted === undefined || wanted === 0 ? secret?.currentVersion : wanted
    const v = version === undefined ? undefined : secret?.versions.get(version)
    if (secret === undefined || version === undefined || v === undefined) return errors(res, 404)
    if (v.deletionTime !== "" || v.destroyed) {
      return send(res, 404, envelope({ data: null, metadata: versionMetadata(version, v) }))
    }
    return send(res, 200, envelope({ data: v.data, metadata: versionMetadata(version, v) }))
  }

  const writeData = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const text = await readBody(req)
    if (text === undefined) return errors(res, 413, "http: request body too large")
    let json: unknown
    try {
      json = text === "" ? {} : JSON.parse(text)
    } catch {
      return errors(res, 400, "failed to parse JSON input: invalid character")
    }
    const body = Schema.decodeUnknownOption(WriteBody)(json)
    if (body._tag === "None") return errors(res, 400, "failed to parse JSON input: unexpected body shape")
    if (body.value.data === undefined) return errors(res, 400, "no data provided")
    const existing = secrets.get(path)
    const cas = body.value.options?.cas
    if (cas !== undefined && cas !== (existing?.currentVersion ?? 0)) {
      return errors(res, 400, "check-and-set parameter did not match the current version")
    }
    const now = new Date().toISOString()
    const secret = existing ?? { createdTime: now, updatedTime: now, versions: new Map(), currentVersion: 0 }
    const version = secret.currentVersion + 1
    const v: Version = { data: { ...body.value.data }, createdTime: now, deletionTime: "", destroyed: false }
    secret.versions.set(version, v)
    secret.currentVersion = version
    secret.updatedTime = now
    secrets.set(path, secret)
    return send(res, 200, envelope(versionMetadata(version, v)))
  }

  const deleteLatest = (res: ServerResponse, path: string) => {
    const secret = secrets.get(path)
    const v = secret?.versions.get(secret.currentVersion)
    if (v !== undefined && v.deletionTime === "") v.deletionTime = new Date().toISOString()
    return send(res, 204)
  }

  const readMetadata = (res: ServerResponse, path: string) => {
    const secret = secrets.get(path)
    if (secret === undefined) return errors(res, 404)
    const versions = Object.fromEntries(
      [...secret.versions].map(([n, v]) => [
        String(n),
        { created_time: v.createdTime, deletion_time: v.deletionTime, destroyed: v.destroyed }
      ])
    )
    return send(res, 200, envelope({
      cas_required: false,
      created_time: secret.createdTime,
      current_version: secret.currentVersion,
      custom_metadata: null,
      delete_version_after: "0s",
      max_versions: 0,
      oldest_version: 0,
      updated_time: secret.updatedTime,
      versions
    }))
  }

  // Real Vault lists the direct children of a folder, folders with a trailing slash.
  const list = (res: ServerResponse, path: string) => {
    const prefix = path === "" ? "" : `${path.replace(/\/$/, "")}/`
    const keys = new Set<string>()
    for (const key of secrets.keys()) {
      if (!key.startsWith(prefix)) continue
      const rest = key.slice(prefix.length)
      const slash = rest.indexOf("/")
      keys.add(slash === -1 ? rest : rest.slice(0, slash + 1))
    }
    if (keys.size === 0) return errors(res, 404)
    return send(res, 200, envelope({ keys: [...keys].sort() }))
  }

  const health = (res: ServerResponse) =>
    send(res, 200, {
      initialized: true,
      sealed: false,
      standby: false,
      performance_standby: false,
      replication_performance_mode: "disabled",
      replication_dr_mode: "disabled",
      server_time_utc: Math.floor(Date.now() / 1000),
      version: "1.15.6",
      cluster_name: "vault-kv-double",
      cluster_id: "00000000-0000-0000-0000-000000000000"
    })

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const method = req.method ?? "GET"
    log.push(`${method} ${url.pathname}${url.search}`)
    if (!url.pathname.startsWith("/v1/")) return errors(res, 404)
    const route = decodeURIComponent(url.pathname.slice("/v1/".length))
    if (route === "sys/health" && (method === "GET" || method === "HEAD")) return health(res)
    if (req.headers["x-vault-token"] !== token) return errors(res, 403, "permission denied")
    const status = sealed ? 503 : injected.shift()
    if (status !== undefined) {
      return errors(res, status, status === 503 ? "Vault is sealed" : `injected failure ${status}`)
    }
    const noRoute = () => errors(res, 404, `no handler for route "${route}". route entry not found.`)
    if (!route.startsWith(`${mount}/`)) return noRoute()
    const rest = route.slice(mount.length + 1)
    const [kind, ...segments] = rest.split("/")
    const path = segments.join("/")
    const isList = method === "GET" && ["true", "1"].includes(url.searchParams.get("list") ?? "")
    if (kind === "metadata" && isList) return list(res, path)
    if (path === "" || path.endsWith("/")) return noRoute()
    if (kind === "data") {
      if (method === "GET") return readData(res, path, url.searchParams)
      if (method === "POST" || method === "PUT") return writeData(req, res, path)
      if (method === "DELETE") return deleteLatest(res, path)
    } else if (kind === "metadata") {
      if (method === "GET") return readMetadata(res, path)
      if (method === "DELETE") {
        secrets.delete(path)
        return send(res, 204)
      }
    } else {
      return noRoute()
    }
    return errors(res, 405, "unsupported operation")
  }

  const listen = Effect.async<Server>((resume) => {
    const server = createServer((req, res) => {
      handle(req, res).catch(() => {
        if (!res.headersSent) errors(res, 500, "internal error")
        else res.destroy()
      })
    })
    server.once("error", (error) => resume(Effect.die(error)))
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  })
  // Clients keep connections alive; without closing them `close` would wait for their idle timeout.
  const close = (server: Server) =>
    Effect.async<void>((resume) => {
      server.close(() => resume(Effect.void))
      server.closeAllConnections()
    })

  return Effect.acquireRelease(listen, close).pipe(
    Effect.map((server): VaultKvDouble => ({
      address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token,
      mount,
      failNext: (...statuses) => Effect.sync(() => void injected.push(...statuses)),
      setSealed: (value) => Effect.sync(() => void (sealed = value)),
      requests: Effect.sync(() => [...log])
    }))
  )
}
