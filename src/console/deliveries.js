// Deliveries of the store, newest first, filtered and paginated by the API's
// cursor; a delivery's attempts as a timeline.
import { api, storePath } from "./api.js"
import { showAttempts } from "./attempts.js"
import { badge, field, h, select, table, when } from "./dom.js"

const statuses = [["", "Any status"], ["PENDING", "Pending"], ["DELIVERED", "Delivered"], ["FAILED", "Failed"], ["DEAD_LETTERED", "Dead-lettered"]]

/** A datetime-local value (the operator's local time) as an ISO instant, or undefined. */
export const localToIso = (value) => (value === "" ? undefined : new Date(value).toISOString())

export const subscriptionNames = async (store) => {
  const { items } = await api.get(storePath(store, "webhooks"))
  return items
}

export const subscriptionSelect = (subscriptions, label = "Any subscription") =>
  select({ name: "subscriptionId" }, [["", label], ...subscriptions.map((sub) => [sub.id, sub.name])])

export const renderDeliveries = async (section, ctx) => {
  const subscriptions = await subscriptionNames(ctx.store)
  const nameOf = new Map(subscriptions.map((sub) => [sub.id, sub.name]))
  const status = select({ name: "status" }, statuses)
  const eventType = h("input", { type: "text", name: "eventType", placeholder: "order.placed", spellcheck: "false" })
  const subscription = subscriptionSelect(subscriptions)
  const since = h("input", { type: "datetime-local", name: "since", step: "1" })
  const until = h("input", { type: "datetime-local", name: "until", step: "1" })
  const form = h("form", { class: "filters", "aria-label": "Filter deliveries" },
    field("Status", status), field("Event type", eventType), field("Subscription", subscription),
    field("Created since", since), field("Created before", until),
    h("button", { type: "submit" }, "Apply filters"))
  const results = h("div", null)
  const detail = h("div", { class: "panel-slot" })
  const pager = h("div", { class: "pager" })
  section.append(form, detail, results, pager)

  // The cursors of the pages before this one: "Newer" goes back one.
  let cursors = []
  let cursor

  const load = async () => {
    const page = await api.get(storePath(ctx.store, "deliveries"), {
      status: status.value,
      eventType: eventType.value.trim(),
      subscriptionId: subscription.value,
      since: localToIso(since.value),
      until: localToIso(until.value),
      limit: 25,
      cursor
    })
    if (!ctx.isCurrent()) return
    results.replaceChildren(table("Deliveries, newest first", ["Created", "Event type", "Subscription", "Status", "Attempts", "Last answer", "Next retry", ""],
      page.items.map((d) => {
        const open = h("button", { type: "button", class: "link" }, "Attempts")
        open.addEventListener("click", () => showAttempts(detail, ctx.store, d.id, open).catch(ctx.showError))
        return [when(d.createdAt), d.eventType, nameOf.get(d.subscriptionId) ?? d.subscriptionId, badge(d.status),
          String(d.attemptNumber), d.httpStatus === null ? "—" : `HTTP ${d.httpStatus}`, when(d.nextRetryAt), open]
      })))
    const newer = h("button", { type: "button", disabled: cursors.length === 0 }, "Newer")
    const older = h("button", { type: "button", disabled: page.nextCursor === null }, "Older")
    newer.addEventListener("click", () => { cursor = cursors.pop(); load().catch(ctx.showError) })
    older.addEventListener("click", () => { cursors.push(cursor); cursor = page.nextCursor; load().catch(ctx.showError) })
    pager.replaceChildren(newer, older, h("span", { class: "muted" }, ` Page ${cursors.length + 1}`))
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault()
    cursors = []
    cursor = undefined
    detail.replaceChildren()
    load().catch(ctx.showError)
  })
  await load()
}
