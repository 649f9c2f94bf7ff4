// DOM helpers of the ops console. Every value from the API enters the page as a
// text node or an attribute value set through the DOM: never as markup (no
// innerHTML anywhere), so a store id or event type holding "<script>" is shown
// as those characters.

const SVG_NS = "http://www.w3.org/2000/svg"

const apply = (el, attrs) => {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value)
    else if (key === "dataset") Object.assign(el.dataset, value)
    else if (key === "value" && "value" in el) el.value = String(value)
    else el.setAttribute(key, value === true ? "" : String(value))
  }
}

const append = (el, children) => {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue
    el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
}

/** An HTML element: `h("button", { type: "button", onclick }, "Save")`. */
export const h = (tag, attrs, ...children) => {
  const el = document.createElement(tag)
  apply(el, attrs)
  append(el, children)
  return el
}

/** An SVG element (the chart). */
export const s = (tag, attrs, ...children) => {
  const el = document.createElementNS(SVG_NS, tag)
  apply(el, attrs)
  append(el, children)
  return el
}

/** Replaces a node's children. */
export const fill = (el, ...children) => {
  el.replaceChildren()
  append(el, children)
  return el
}

let ids = 0
/** A unique id, for label `for` and `aria-*` references. */
export const uid = (prefix) => `${prefix}-${++ids}`

/** A labelled form field: the label, then the control. */
export const field = (label, control, hint) => {
  control.id ||= uid("f")
  const hintEl = hint ? h("small", { id: `${control.id}-hint`, class: "hint" }, hint) : null
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id)
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintEl)
}

export const select = (attrs, options) =>
  h("select", attrs, options.map(([value, label]) => h("option", { value }, label)))

/** A date-time as the operator reads it (their locale), with the ISO value in a tooltip. */
export const when = (iso) => {
  if (iso === null || iso === undefined) return h("span", { class: "muted" }, "—")
  const date = new Date(iso)
  return h("time", { datetime: iso, title: iso }, date.toLocaleString())
}

const statusWords = {
  PENDING: "pending",
  DELIVERED: "delivered",
  FAILED: "failed, will retry",
  DEAD_LETTERED: "dead-lettered",
  RUNNING: "running",
  SUCCEEDED: "succeeded"
}

/** A status badge: the status in words as well as in colour. */
export const badge = (status) =>
  h("span", { class: `badge badge-${String(status).toLowerCase()}`, title: statusWords[status] ?? String(status) }, String(status))

/** A table: headers, then rows of cells (each a node or text). */
export const table = (caption, headers, rows) =>
  h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", null,
      h("caption", null, caption),
      h("thead", null, h("tr", null, headers.map((header) => h("th", { scope: "col" }, header)))),
      h("tbody", null,
        rows.length === 0
          ? h("tr", null, h("td", { colspan: String(headers.length), class: "muted" }, "Nothing to show."))
          : rows.map((cells) => h("tr", null, cells.map((cell) => h("td", null, cell)))))))

/**
 * An inline confirmation in `where` (no window.confirm: it reads the same with a
 * screen reader and a keyboard as the rest of the page). Resolves true or false.
 */
export const confirmInline = (where, message, confirmLabel) =>
  new Promise((resolve) => {
    const done = (answer) => {
      box.remove()
      resolve(answer)
    }
    const yes = h("button", { type: "button", class: "danger", onclick: () => done(true) }, confirmLabel)
    const box = h("div", { class: "confirm", role: "alertdialog", "aria-label": "Confirm" },
      h("p", null, message),
      yes,
      h("button", { type: "button", onclick: () => done(false) }, "Cancel"))
    where.replaceChildren(box)
    yes.focus()
  })
