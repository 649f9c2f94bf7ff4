// The ops console's shell: sign-in, the store being looked at, the views.
import { api, ApiError, session, storePath } from "./api.js"
import { field, fill, h } from "./dom.js"
import { renderConnectors } from "./connectors.js"
import { renderCredentials } from "./credentials.js"
import { renderDeadLetters } from "./deadLetters.js"
import { renderDeliveries } from "./deliveries.js"
import { renderOverview } from "./overview.js"
import { renderSubscriptions } from "./subscriptions.js"

const views = [
  ["overview", "Overview", renderOverview],
  ["subscriptions", "Subscriptions", renderSubscriptions],
  ["deliveries", "Deliveries", renderDeliveries],
  ["dead-letters", "Dead letters", renderDeadLetters],
  ["connectors", "Connectors", renderConnectors],
  ["credentials", "Credentials", renderCredentials]
]

const $ = (id) => document.getElementById(id)

/** Errors in words, in the alert region (read out by screen readers). */
export const showError = (error) => {
  const message = error instanceof ApiError ? error.message : `Something went wrong in the console: ${String(error?.message ?? error)}`
  fill($("alert"), h("p", null, message), h("button", { type: "button", class: "link", onclick: clearError }, "Dismiss"))
  $("alert").hidden = false
  if (error instanceof ApiError && error.status === 401) signOut()
}

export const clearError = () => {
  $("alert").hidden = true
  $("alert").replaceChildren()
}

/** A short note of what just happened (polite live region). */
export const notify = (text) => fill($("status"), text)

const signOut = () => {
  session.signOut()
  // Not through location.hash: its hashchange would clear the alert saying why.
  history.replaceState(null, "", location.pathname)
  route()
}

/** Checks a token and a store by listing the store's subscriptions: one call the CLI makes too. */
const signInForm = () => {
  const token = h("input", { type: "password", name: "token", autocomplete: "off", required: true, spellcheck: "false" })
  const store = h("input", { type: "text", name: "store", autocomplete: "off", required: true, spellcheck: "false" })
  const submit = h("button", { type: "submit" }, "Sign in")
  const form = h("form", { class: "card narrow", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    h("p", null, "Use the service's admin token. It is kept in this tab only (sessionStorage) and sent to this service alone."),
    field("Admin token", token),
    field("Store id", store, "The console shows one store at a time; you can switch later."),
    submit)
  form.addEventListener("submit", async (event) => {
    event.preventDefault()
    clearError()
    submit.disabled = true
    try {
      await api.get(storePath(store.value.trim(), "webhooks"), undefined, { token: token.value })
      session.signIn(token.value, store.value.trim())
      token.value = ""
      location.hash = "#/overview"
      route()
    } catch (error) {
      showError(error)
      token.focus()
    } finally {
      submit.disabled = false
    }
  })
  return form
}

const storeSwitcher = (current) => {
  const input = h("input", { type: "text", name: "store", value: current, autocomplete: "off", spellcheck: "false" })
  const form = h("form", { class: "store-switch", "aria-label": "Store" },
    field("Store", input), h("button", { type: "submit" }, "Switch"))
  form.addEventListener("submit", (event) => {
    event.preventDefault()
    const next = input.value.trim()
    if (next === "") return
    session.setStore(next)
    clearError()
    route()
  })
  return form
}

const currentView = () => {
  const name = location.hash.replace(/^#\/?/, "").split("/")[0]
  return views.find(([key]) => key === name) ?? views[0]
}

let rendering = 0

export const route = async () => {
  const main = $("main")
  const nav = $("nav")
  const store = session.store()
  if (!session.token() || !store) {
    nav.hidden = true
    $("session").replaceChildren()
    fill(main, signInForm())
    main.querySelector("input")?.focus()
    return
  }
  const [key, title, render] = currentView()
  nav.hidden = false
  fill(nav, views.map(([name, label]) =>
    h("a", { href: `#/${name}`, "aria-current": name === key ? "page" : undefined }, label)))
  fill($("session"), storeSwitcher(store), h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"))
  document.title = `${title} · ${store} · integration-service`
  const mine = ++rendering
  const section = h("section", { "aria-labelledby": "view-title" }, h("h1", { id: "view-title" }, title, " ", h("span", { class: "store-name" }, store)))
  fill(main, section)
  try {
    await render(section, { store, notify, showError, isCurrent: () => mine === rendering })
  } catch (error) {
    if (mine === rendering) showError(error)
  }
}

window.addEventListener("hashchange", () => {
  clearError()
  route().then(() => $("main").focus())
})
route()
