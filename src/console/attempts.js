// One delivery's attempts as a timeline: when, the answer (status or error),
// how long it took, what the receiver said; and when the next retry is due.
import { api, storePath } from "./api.js"
import { badge, h, when } from "./dom.js"

const excerptLength = 300

const excerpt = (text) =>
  text === null || text === undefined || text === ""
    ? null
    : h("pre", { class: "excerpt" }, text.length > excerptLength ? `${text.slice(0, excerptLength)}…` : text)

const outcome = (attempt) =>
  attempt.error !== null
    ? `error: ${attempt.error}`
    : attempt.httpStatus === null
    ? "no answer"
    : `HTTP ${attempt.httpStatus}`

export const attemptsTimeline = (delivery) =>
  h("div", { class: "timeline-wrap" },
    h("p", null, "Status ", badge(delivery.status), " · attempt ", String(delivery.attemptNumber),
      delivery.nextRetryAt ? h("span", null, " · next retry ", when(delivery.nextRetryAt)) : null,
      delivery.deliveredAt ? h("span", null, " · delivered ", when(delivery.deliveredAt)) : null),
    delivery.attempts.length === 0
      ? h("p", { class: "muted" }, "No attempt yet.")
      : h("ol", { class: "timeline", "aria-label": "Attempts, oldest first" },
        delivery.attempts.map((attempt) => {
          const ok = attempt.error === null && attempt.httpStatus !== null && attempt.httpStatus >= 200 && attempt.httpStatus < 300
          return h("li", { class: ok ? "ok" : "bad" },
            h("p", null, h("strong", null, `Attempt ${attempt.attemptNumber}`), " · ", when(attempt.startedAt), " · ",
              outcome(attempt), ` · ${attempt.durationMs} ms`),
            excerpt(attempt.responseBody))
        })))

/** Loads a delivery and shows its timeline in `where`, with the close button returning focus. */
export const showAttempts = async (where, store, id, opener) => {
  const delivery = await api.get(storePath(store, "deliveries", id))
  const close = h("button", { type: "button", onclick: () => { where.replaceChildren(); opener?.focus() } }, "Close")
  where.replaceChildren(h("div", { class: "card", role: "region", "aria-label": `Attempts of delivery ${id}` },
    h("h2", null, "Delivery ", h("code", null, id)),
    h("p", null, "Event ", h("code", null, delivery.eventType), " · ", h("code", null, delivery.eventId)),
    attemptsTimeline(delivery),
    close))
  close.focus()
  return delivery
}
