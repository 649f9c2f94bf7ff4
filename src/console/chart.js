// Deliveries per minute by outcome over the last hour, as an inline SVG drawn
// here (no chart library: nothing to fetch, nothing to run but this file).
import { h, s, uid } from "./dom.js"

const outcomes = [
  ["delivered", "Delivered"],
  ["failed", "Failed attempts"],
  ["deadLettered", "Dead-lettered"]
]

const width = 720
const height = 220
const pad = { left: 40, right: 8, top: 12, bottom: 28 }

/** One slot per minute from `since`, the API's minutes filled in (it leaves out empty ones). */
export const minuteSlots = (since, minutes, perMinute) => {
  const start = Date.parse(since)
  const slots = Array.from({ length: minutes }, (_, i) => ({ minute: new Date(start + i * 60_000), delivered: 0, failed: 0, deadLettered: 0 }))
  for (const m of perMinute) {
    const i = Math.round((Date.parse(m.minute) - start) / 60_000)
    if (i >= 0 && i < minutes) Object.assign(slots[i], { delivered: m.delivered, failed: m.failed, deadLettered: m.deadLettered })
  }
  return slots
}

const niceMax = (n) => {
  if (n <= 5) return 5
  const magnitude = 10 ** Math.floor(Math.log10(n))
  return [1, 2, 5, 10].map((f) => f * magnitude).find((v) => v >= n)
}

const hhmm = (date) => date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })

/** The chart, with a title and a summary for screen readers, and a legend. */
export const deliveriesChart = (stats, minutes) => {
  const slots = minuteSlots(stats.since, minutes, stats.perMinute)
  const totals = Object.fromEntries(outcomes.map(([key]) => [key, slots.reduce((sum, m) => sum + m[key], 0)]))
  const max = niceMax(Math.max(0, ...slots.map((m) => m.delivered + m.failed + m.deadLettered)))
  const plotW = width - pad.left - pad.right
  const plotH = height - pad.top - pad.bottom
  const barW = plotW / minutes
  const y = (v) => pad.top + plotH - (v / max) * plotH
  const titleId = uid("chart-title")
  const descId = uid("chart-desc")

  const grid = [0, max / 2, max].map((v) =>
    s("g", { class: "grid" },
      s("line", { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v) }),
      s("text", { x: pad.left - 6, y: y(v) + 4, "text-anchor": "end" }, String(Math.round(v)))))

  const bars = slots.map((slot, i) => {
    let base = 0
    const x = pad.left + i * barW
    const parts = outcomes.filter(([key]) => slot[key] > 0).map(([key, label]) => {
      const top = base + slot[key]
      const rect = s("rect", { class: `bar bar-${key}`, x: x + 0.5, width: Math.max(1, barW - 1), y: y(top), height: y(base) - y(top) },
        s("title", null, `${hhmm(slot.minute)} · ${label}: ${slot[key]}`))
      base = top
      return rect
    })
    return s("g", null, parts)
  })

  const ticks = slots.map((slot, i) => ({ slot, i })).filter(({ i }) => i % 15 === 0 || i === minutes - 1).map(({ slot, i }) =>
    s("text", { class: "tick", x: pad.left + i * barW + barW / 2, y: height - 8, "text-anchor": i === minutes - 1 ? "end" : "middle" }, hhmm(slot.minute)))

  const summary = outcomes.map(([key, label]) => `${label}: ${totals[key]}`).join(", ")
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": `${titleId} ${descId}`, class: "chart" },
    s("title", { id: titleId }, `Deliveries per minute by outcome, last ${minutes} minutes`),
    s("desc", { id: descId }, `Totals over the window. ${summary}.`),
    grid, bars, ticks)

  const legend = h("ul", { class: "legend", "aria-label": "Legend" },
    outcomes.map(([key, label]) => h("li", null, h("span", { class: `swatch swatch-${key}`, "aria-hidden": "true" }), `${label}: ${totals[key]}`)))

  return h("figure", { class: "chart-figure" }, svg, h("figcaption", null, legend))
}
