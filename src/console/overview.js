// The landing view: the last hour at a glance, and what is waiting.
import { api, storePath } from "./api.js"
import { deliveriesChart } from "./chart.js"
import { h, when } from "./dom.js"

const minutes = 60

const tile = (label, value, note) =>
  h("div", { class: "tile" }, h("p", { class: "tile-label" }, label), h("p", { class: "tile-value" }, value), note ? h("p", { class: "muted" }, note) : null)

export const renderOverview = async (section, ctx) => {
  const refresh = h("button", { type: "button" }, "Refresh")
  const body = h("div", { class: "overview" }, h("p", { class: "muted" }, "Loading…"))
  section.append(h("div", { class: "toolbar" }, refresh), body)

  const load = async () => {
    const stats = await api.get(storePath(ctx.store, "deliveries", "stats"), { minutes })
    if (!ctx.isCurrent()) return
    body.replaceChildren(
      h("div", { class: "tiles" },
        tile("Pending", stats.backlog.pending),
        tile("Failed, awaiting retry", stats.backlog.failed),
        tile("Dead-lettered (24 h)", stats.deadLetteredLast24h, h("a", { href: "#/dead-letters" }, "Review dead letters")),
        tile("Oldest due", when(stats.backlog.oldestDueAt))),
      h("h2", null, "Deliveries per minute, last hour"),
      deliveriesChart(stats, minutes))
  }
  refresh.addEventListener("click", () => load().then(() => ctx.notify("Overview refreshed."), ctx.showError))
  await load()
}
