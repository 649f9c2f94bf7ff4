// Subscriptions: their state and last hour's success rate; create, pause or
// resume, rotate the signing secret (shown once, then gone from the page).
import { api, storePath } from "./api.js"
import { badge, confirmInline, field, h, table } from "./dom.js"

/** Successful attempts out of all attempts in the last hour, from the stats endpoint. */
const successRate = async (store, subscriptionId) => {
  const stats = await api.get(storePath(store, "deliveries", "stats"), { minutes: 60, subscriptionId })
  const ok = stats.perMinute.reduce((n, m) => n + m.delivered, 0)
  const all = stats.perMinute.reduce((n, m) => n + m.delivered + m.failed, 0)
  return all === 0 ? "no attempts" : `${Math.round((ok / all) * 100)}% of ${all}`
}

/**
 * The signing secret, once: in a panel the operator dismisses after copying it.
 * Dismissing removes the panel, and with it the only copy the page had.
 */
const showSecretOnce = (where, subscription, after) => {
  const secret = h("code", { class: "secret", "data-secret": "" }, subscription.signingSecret)
  const copy = h("button", { type: "button" }, "Copy")
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret.textContent ?? "")
      copy.textContent = "Copied"
    } catch {
      copy.textContent = "Select the text to copy"
    }
  })
  const done = h("button", { type: "button", class: "primary" }, "I have stored it — hide")
  const panel = h("div", { class: "card secret-panel", role: "region", "aria-label": "Signing secret" },
    h("h2", null, "Signing secret of ", subscription.name),
    h("p", null, "Shown this once: the service keeps it encrypted and never shows it again. Store it with the receiver now."),
    h("p", null, secret, " ", copy),
    done)
  done.addEventListener("click", () => {
    panel.remove()
    after()
  })
  where.replaceChildren(panel)
  done.focus()
}

const createForm = (ctx, onCreated) => {
  const name = h("input", { type: "text", name: "name", required: true, maxlength: "200" })
  const url = h("input", { type: "url", name: "targetUrl", required: true, placeholder: "https://example.com/hooks" })
  const events = h("input", { type: "text", name: "events", required: true, placeholder: "order.placed, order.updated or *" })
  const form = h("form", { class: "card", "aria-labelledby": "create-sub" },
    h("h2", { id: "create-sub" }, "New subscription"),
    field("Name", name), field("Target URL", url), field("Event types", events, "Comma-separated; * for every event."),
    h("button", { type: "submit" }, "Create subscription"))
  form.addEventListener("submit", async (event) => {
    event.preventDefault()
    try {
      const created = await api.post(storePath(ctx.store, "webhooks"), {
        name: name.value,
        targetUrl: url.value,
        events: events.value.split(",").map((e) => e.trim()).filter((e) => e !== "")
      })
      form.reset()
      ctx.notify(`Subscription ${created.name} created.`)
      onCreated(created)
    } catch (error) {
      ctx.showError(error)
    }
  })
  return form
}

export const renderSubscriptions = async (section, ctx) => {
  const panel = h("div", { class: "panel-slot" })
  const list = h("div", null, h("p", { class: "muted" }, "Loading…"))

  const load = async () => {
    const { items } = await api.get(storePath(ctx.store, "webhooks"))
    const rates = await Promise.all(items.map((sub) => successRate(ctx.store, sub.id).catch(() => "unavailable")))
    if (!ctx.isCurrent()) return
    list.replaceChildren(table("Subscriptions of this store", ["Name", "Target URL", "Events", "State", "Success, last hour", "Actions"],
      items.map((sub, i) => [
        sub.name,
        h("span", { class: "url" }, sub.targetUrl),
        sub.events.join(", "),
        badge(sub.isActive ? "ACTIVE" : "PAUSED"),
        rates[i],
        h("div", { class: "actions" },
          h("button", { type: "button", onclick: () => setActive(sub, !sub.isActive) }, sub.isActive ? `Pause ${sub.name}` : `Resume ${sub.name}`),
          h("button", { type: "button", onclick: () => rotate(sub) }, `Rotate secret of ${sub.name}`))
      ])))
  }

  const setActive = async (sub, isActive) => {
    try {
      await api.patch(storePath(ctx.store, "webhooks", sub.id), { isActive })
      ctx.notify(`${sub.name} ${isActive ? "resumed" : "paused"}.`)
      await load()
    } catch (error) {
      ctx.showError(error)
    }
  }

  const rotate = async (sub) => {
    const sure = await confirmInline(panel, `Rotate the signing secret of ${sub.name}? The receiver must switch to the new one; for a while deliveries carry both signatures.`, "Rotate secret")
    if (!sure) return
    try {
      const rotated = await api.post(storePath(ctx.store, "webhooks", sub.id, "secret", "rotate"))
      showSecretOnce(panel, rotated, () => ctx.notify("Secret hidden."))
    } catch (error) {
      ctx.showError(error)
    }
  }

  section.append(panel, list, createForm(ctx, (created) => {
    showSecretOnce(panel, created, () => ctx.notify("Secret hidden."))
    load().catch(ctx.showError)
  }))
  await load()
}
