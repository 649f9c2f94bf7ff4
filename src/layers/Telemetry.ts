import * as Otlp from "@effect/opentelemetry/Otlp"
import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer, Logger, LogLevel, Option } from "effect"
import { AppConfig } from "../services/AppConfig.ts"

/** `LOG_LEVEL=debug` shows debug logs; info and above otherwise. */
const logLevelFromEnv = Logger.minimumLogLevel(process.env["LOG_LEVEL"] === "debug" ? LogLevel.Debug : LogLevel.Info)

/** One JSON object per log line on stdout (what log shippers expect). */
export const JsonLogs = Layer.merge(Logger.json, logLevelFromEnv)

/** Dev mode: one logfmt line per entry (`timestamp=… level=INFO fiber=#12 message=…`), for reading in a terminal. */
export const DevLogs = Layer.merge(Logger.logFmt, logLevelFromEnv)

/** Traces, metrics and logs over OTLP/HTTP when an endpoint is configured. */
export const makeOtlp = (endpoint: string) =>
  Otlp.layerJson({
    baseUrl: endpoint,
    resource: { serviceName: "integration-service" }
  }).pipe(Layer.provide(FetchHttpClient.layer))

/**
 * Without an endpoint no span goes anywhere: the tracer is switched off, so the
 * hot paths (an attempt, a statement) do not build spans nobody reads.
 */
export const TelemetryLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) =>
    Option.match(config.otlpEndpoint, {
      onNone: () => Layer.setTracerEnabled(false),
      onSome: makeOtlp
    }))
)

