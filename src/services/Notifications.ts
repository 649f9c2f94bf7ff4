import { Context, type Effect, type Stream } from "effect"

/**
 * Small messages to every instance of the service (PostgreSQL LISTEN/NOTIFY in
 * live mode): e.g. "credential X was revoked", so each instance drops what it
 * cached about it within moments.
 */
export interface NotificationsShape {
  readonly notify: (channel: string, payload: string) => Effect.Effect<void>
  /**
   * The channel's messages while the stream is consumed. When the connection
   * behind it was lost and re-established, `"*"` is emitted: messages may have
   * been missed, so whatever they would have invalidated should be dropped.
   */
  readonly listen: (channel: string) => Stream.Stream<string>
}

export class Notifications extends Context.Tag("integration-service/Notifications")<Notifications, NotificationsShape>() {}
