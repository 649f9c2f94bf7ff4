import { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Layer } from "effect"
import { DeliveryStore } from "../services/DeliveryStore.ts"
import { anyDue, claim, releaseExpiredLeases, releaseLeases, renewLeases } from "./deliveryStore/claims.ts"
import { webhookBacklog } from "./deliveryStore/backlog.ts"
import { createForEvents } from "./deliveryStore/fanOut.ts"
import { enqueueOutbox, listSetAside, relayOutbox } from "./deliveryStore/outbox.ts"
import { listQuarantined, quarantine } from "./deliveryStore/quarantine.ts"
import { record } from "./deliveryStore/recording.ts"
import { tableUpkeep } from "./deliveryStore/upkeep.ts"
import { disableAnnounced, recordWebhookAttempts } from "./deliveryStore/webhookRecording.ts"

/** The delivery engine's tables in PostgreSQL (or PGlite in dev mode). */
export const makeDeliveryStoreSql = Effect.map(SqlClient, (sql) =>
  DeliveryStore.of({
    createForEvents: createForEvents(sql),
    claim: claim(sql),
    anyDue: anyDue(sql),
    renewLeases: renewLeases(sql),
    releaseLeases: releaseLeases(sql),
    releaseExpiredLeases: releaseExpiredLeases(sql),
    record: record(sql),
    recordWebhookAttempts: recordWebhookAttempts(sql),
    disableAnnounced: disableAnnounced(sql),
    webhookBacklog: webhookBacklog(sql),
    enqueueOutbox: enqueueOutbox(sql),
    relayOutbox: relayOutbox(sql),
    quarantine: quarantine(sql),
    listQuarantined: listQuarantined(sql),
    listSetAside: listSetAside(sql),
    tableUpkeep: tableUpkeep(sql)
  }))

export const DeliveryStoreSql = Layer.effect(DeliveryStore, makeDeliveryStoreSql)
