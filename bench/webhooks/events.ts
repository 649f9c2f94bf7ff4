/** The events the run publishes: envelopes stamped with their send time, in a burst or at a steady rate. */
import type { Producer } from "kafkajs"
import { randomUUID } from "node:crypto"
import { sleep, wallNow } from "../support/run.ts"
import { eventTopic, settings, storeIds } from "./settings.ts"

const padding = "x".repeat(settings.payloadBytes)
let sequence = 0

export const makeEvent = (eventType: string, storeId: string) => {
  const now = wallNow()
  return {
    key: storeId,
    value: JSON.stringify({
      eventId: randomUUID(),
      eventType,
      storeId,
      occurredAt: new Date(now).toISOString(),
      data: { sentAt: now, seq: ++sequence, pad: padding }
    })
  }
}

export const publishBurst = async (producer: Producer, eventType: string, count: number) => {
  const chunk = 500
  const sends: Array<Promise<unknown>> = []
  for (let i = 0; i < count; i += chunk) {
    const messages = Array.from({ length: Math.min(chunk, count - i) }, (_, j) => makeEvent(eventType, storeIds[(i + j) % storeIds.length]!))
    sends.push(producer.send({ topic: eventTopic, acks: -1, messages }))
    // A few sends in flight at once, not all of them.
    if (sends.length >= 4) await sends.shift()
  }
  await Promise.all(sends)
}

/** `rate` events/s for `seconds`, in 5 ms ticks; each event is stamped with its send time. */
export const publishSteady = async (producer: Producer, eventType: string, rate: number, seconds: number) => {
  const start = wallNow()
  const total = Math.round(rate * seconds)
  let sent = 0
  let storeIndex = 0
  const inFlight = new Set<Promise<unknown>>()
  while (sent < total) {
    const due = Math.min(total, Math.floor(((wallNow() - start) / 1000) * rate)) - sent
    if (due > 0) {
      const messages = Array.from({ length: due }, () => makeEvent(eventType, storeIds[storeIndex++ % storeIds.length]!))
      sent += due
      const send = producer.send({ topic: eventTopic, acks: -1, messages })
      inFlight.add(send)
      void send.finally(() => inFlight.delete(send))
    }
    await sleep(5)
  }
  await Promise.all(inFlight)
  return { sent, seconds: (wallNow() - start) / 1000 }
}
