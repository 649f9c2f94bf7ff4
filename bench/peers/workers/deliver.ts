/**
 * The job every peer does, the simplest version of what the service does per
 * delivery: a JSON POST of the event envelope, signed like the service signs
 * (`X-SS3-Signature: sha256=<hex HMAC-SHA256(secret, body)>`), a 2xx within the
 * timeout or it throws — so the queue's own retry takes over.
 */
import { createHmac } from "node:crypto"
import { Agent, request } from "undici"

/** One delivery as a job: which subscription, where to, and the event (with data.sentAt, the enqueue time). */
export interface DeliveryJob {
  readonly deliveryId: string
  readonly subscriptionId: string
  readonly url: string
  readonly event: {
    readonly eventId: string
    readonly eventType: string
    readonly storeId: string
    readonly occurredAt: string
    readonly data: Record<string, unknown>
  }
}

export const makeDeliver = (secrets: Readonly<Record<string, string>>, timeoutMs: number) => {
  // One keep-alive pool per origin, as a Node service using undici (or fetch) gets by default.
  const agent = new Agent({ keepAliveTimeout: 4_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connectTimeout: timeoutMs })
  const deliver = async (job: DeliveryJob): Promise<void> => {
    const secret = secrets[job.subscriptionId]
    if (secret === undefined) throw new Error(`no signing secret for subscription ${job.subscriptionId}`)
    const body = JSON.stringify(job.event)
    const signature = createHmac("sha256", secret).update(body).digest("hex")
    const res = await request(job.url, {
      dispatcher: agent,
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-ss3-event": job.event.eventType,
        "x-ss3-delivery": job.deliveryId,
        "x-ss3-signature": `sha256=${signature}`
      },
      body,
      signal: AbortSignal.timeout(timeoutMs)
    })
    await res.body.dump()
    if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`)
  }
  return { deliver, close: () => agent.close() }
}
