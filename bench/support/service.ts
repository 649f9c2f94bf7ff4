/**
 * The infrastructure a benchmark gives MainLive when it runs the service
 * in-process: LiveInfra (src/layers/Infra.ts) but for Vault, settings and
 * telemetry — an in-memory Vault and fixed settings instead of VaultLive and
 * AppConfigLive, so a run needs no Vault and no environment — with the HTTP
 * server on a free loopback port.
 */
import { Layer } from "effect"
import { CryptoPrimitivesNode } from "../../src/layers/CryptoPrimitivesNode.ts"
import { DbLive } from "../../src/layers/DbLive.ts"
import { DnsLive } from "../../src/layers/DnsLive.ts"
import { HttpOutLive } from "../../src/layers/HttpOutLive.ts"
import { makeHttpServerNode } from "../../src/layers/HttpServerNode.ts"
import type { KafkaDev } from "../../src/layers/KafkaDev.ts"
import type { KafkaLive } from "../../src/layers/KafkaLive.ts"
import { NotificationsPg } from "../../src/layers/NotificationsPg.ts"
import { PasswordHasherFromConfig } from "../../src/layers/PasswordHasherBcrypt.ts"
import { makeVaultTest } from "../../src/layers/VaultTest.ts"
import { AppConfig, type AppConfigShape } from "../../src/services/AppConfig.ts"
import { Vault } from "../../src/services/Vault.ts"

/** `kafka`: KafkaLive for a real broker, KafkaDev for the in-process bus. */
export const inProcessInfra = (config: AppConfigShape, kafka: typeof KafkaLive | typeof KafkaDev) =>
  Layer.mergeAll(
    NotificationsPg,
    kafka,
    HttpOutLive,
    DnsLive,
    PasswordHasherFromConfig,
    CryptoPrimitivesNode,
    makeHttpServerNode(0, "127.0.0.1"),
    Layer.effect(Vault, makeVaultTest())
  ).pipe(Layer.provideMerge(DbLive), Layer.provideMerge(Layer.succeed(AppConfig, config)))
