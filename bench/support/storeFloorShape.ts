/** What bench:peers tells the store floor's process, and what it answers (../peers/storeFloor.ts, ./storeFloor.ts). */
export interface StoreFloorSettings {
  readonly url: string
  readonly deliveries: number
  readonly batch: number
  readonly writers: number
  readonly payloadBytes: number
}

export interface StoreFloorResult {
  readonly delivered: number
  readonly seconds: number
  /** The process's CPU over the run (the statements' client side). */
  readonly cpuSeconds: number
  /** Deliveries not DELIVERED, and outbox messages not taken, at the end (both 0 in a sound run). */
  readonly pending: number
  readonly outboxLeft: number
}
