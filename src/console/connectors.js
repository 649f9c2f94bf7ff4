// Connectors of the store, and for one of them its sync log (inbound imports,
// outbound pushes) and its outbound runs.
import { api, storePath } from "./api.js"
import { badge, h, table, when } from "./dom.js"

const syncLog = async (ctx, connector, where, opener) => {
  const [log, runs] = await Promise.all([
    api.get(storePath(ctx.store, "connectors", connector.id, "sync-log"), { limit: 50 }),
    api.get(storePath(ctx.store, "connectors", connector.id, "runs"), { limit: 25 })
  ])
  const close = h("button", { type: "button", onclick: () => { where.replaceChildren(); opener.focus() } }, "Close")
  where.replaceChildren(h("div", { class: "card", role: "region", "aria-label": `Connector ${connector.displayName}` },
    h("h2", null, connector.displayName),
    table("Sync log, newest first", ["Started", "Direction", "Entity", "Records", "Status", "Error", "Finished"],
      log.items.map((entry) => [when(entry.startedAt), entry.direction, entry.entityType, String(entry.recordCount),
        badge(entry.status), entry.errorSummary ?? "—", when(entry.finishedAt)])),
    table("Outbound runs, newest first", ["Created", "Event type", "Status", "Attempts", "Next retry", "Finished"],
      runs.items.map((run) => [when(run.createdAt), run.eventType, badge(run.status), String(run.attemptNumber),
        when(run.nextRetryAt), when(run.finishedAt)])),
    close))
  close.focus()
}

export const renderConnectors = async (section, ctx) => {
  const detail = h("div", { class: "panel-slot" })
  const { items } = await api.get(storePath(ctx.store, "connectors"))
  if (!ctx.isCurrent()) return
  section.append(
    table("Connectors of this store", ["Name", "Type", "State", "Events", "Credentials", "Updated", ""],
      items.map((connector) => {
        const open = h("button", { type: "button", class: "link" }, `Sync log of ${connector.displayName}`)
        open.addEventListener("click", () => syncLog(ctx, connector, detail, open).catch(ctx.showError))
        return [connector.displayName, connector.connectorType, badge(connector.isActive ? "ACTIVE" : "PAUSED"),
          connector.eventSubscriptions.join(", ") || "—", connector.hasCredentials ? "stored" : "missing",
          when(connector.updatedAt), open]
      })),
    detail)
}
