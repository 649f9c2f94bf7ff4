// Dead letters: re-trigger one (and watch it go through), or replay many by a
// filter, the number they match confirmed first (a dry run of the bulk retry).
import { api, storePath } from "./api.js"
import { showAttempts } from "./attempts.js"
import { badge, confirmInline, field, h, select, table, when } from "./dom.js"
import { localToIso, subscriptionNames, subscriptionSelect } from "./deliveries.js"

const settled = new Set(["DELIVERED", "DEAD_LETTERED"])
const watchEveryMs = 1000
const watchAtMostMs = 60_000

/** Follows a re-triggered delivery until it settles, showing its status as it goes. */
const watch = async (store, id, cell, isCurrent) => {
  const until = Date.now() + watchAtMostMs
  while (isCurrent() && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, watchEveryMs))
    const delivery = await api.get(storePath(store, "deliveries", id))
    cell.replaceChildren(badge(delivery.status))
    if (settled.has(delivery.status)) return delivery.status
  }
  return undefined
}

const bulkForm = (ctx, subscriptions, where, reload) => {
  const status = select({ name: "status" }, [["DEAD_LETTERED", "Dead-lettered"], ["FAILED", "Failed (awaiting a retry)"]])
  const subscription = subscriptionSelect(subscriptions)
  const since = h("input", { type: "datetime-local", name: "since", step: "1" })
  const form = h("form", { class: "card filters", "aria-labelledby": "bulk-title" },
    h("h2", { id: "bulk-title" }, "Bulk replay"),
    field("Status", status), field("Subscription", subscription), field("Created since", since),
    h("button", { type: "submit" }, "Count matching deliveries"))
  form.addEventListener("submit", async (event) => {
    event.preventDefault()
    const filter = {
      status: status.value,
      ...(subscription.value ? { subscriptionId: subscription.value } : {}),
      ...(since.value ? { since: localToIso(since.value) } : {})
    }
    try {
      const { matching } = await api.post(storePath(ctx.store, "deliveries", "retry"), { ...filter, dryRun: true })
      if (matching === 0) {
        where.replaceChildren(h("p", null, "No delivery matches this filter: nothing to replay."))
        return
      }
      const noun = matching === 1 ? "delivery" : "deliveries"
      const sure = await confirmInline(where, `${matching} ${noun} match this filter. Re-trigger them now? Each starts a fresh retry cycle.`, `Re-trigger ${matching} ${noun}`)
      if (!sure) {
        ctx.notify("Bulk replay cancelled.")
        return
      }
      const { retried } = await api.post(storePath(ctx.store, "deliveries", "retry"), filter)
      where.replaceChildren(h("p", null, `${retried} ${retried === 1 ? "delivery" : "deliveries"} re-triggered.`))
      ctx.notify(`${retried} re-triggered.`)
      await reload()
    } catch (error) {
      ctx.showError(error)
    }
  })
  return form
}

export const renderDeadLetters = async (section, ctx) => {
  const subscriptions = await subscriptionNames(ctx.store)
  const nameOf = new Map(subscriptions.map((sub) => [sub.id, sub.name]))
  const detail = h("div", { class: "panel-slot" })
  const list = h("div", null)
  const outcome = h("div", { class: "panel-slot", "aria-live": "polite" })

  const retryOne = async (delivery, cell, button) => {
    button.disabled = true
    try {
      const retried = await api.post(storePath(ctx.store, "deliveries", delivery.id, "retry"))
      cell.replaceChildren(badge(retried.status))
      ctx.notify(`Delivery ${delivery.id} re-triggered.`)
      const final = await watch(ctx.store, delivery.id, cell, ctx.isCurrent)
      if (final) ctx.notify(`Delivery ${delivery.id} is now ${final}.`)
    } catch (error) {
      button.disabled = false
      ctx.showError(error)
    }
  }

  const load = async () => {
    const page = await api.get(storePath(ctx.store, "deliveries"), { status: "DEAD_LETTERED", limit: 100 })
    if (!ctx.isCurrent()) return
    list.replaceChildren(table("Dead-lettered deliveries, newest first", ["Created", "Event type", "Subscription", "Status", "Last answer", ""],
      page.items.map((d) => {
        const cell = h("span", { "data-delivery": d.id }, badge(d.status))
        const retry = h("button", { type: "button" }, "Re-trigger")
        retry.setAttribute("aria-label", `Re-trigger delivery ${d.id}`)
        retry.addEventListener("click", () => retryOne(d, cell, retry))
        const open = h("button", { type: "button", class: "link" }, "Attempts")
        open.addEventListener("click", () => showAttempts(detail, ctx.store, d.id, open).catch(ctx.showError))
        return [when(d.createdAt), d.eventType, nameOf.get(d.subscriptionId) ?? d.subscriptionId, cell,
          d.httpStatus === null ? "—" : `HTTP ${d.httpStatus}`, h("div", { class: "actions" }, retry, open)]
      })),
      page.nextCursor === null ? null : h("p", { class: "muted" }, "Showing the newest 100; use Deliveries for older ones."))
  }

  const refresh = h("button", { type: "button", onclick: () => load().catch(ctx.showError) }, "Refresh")
  section.append(h("div", { class: "toolbar" }, refresh), detail, list, bulkForm(ctx, subscriptions, outcome, load), outcome)
  await load()
}
