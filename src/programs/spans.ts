import { Effect, FiberRef, type Tracer } from "effect"

/**
 * `Effect.withSpan`, only while tracing is on. With the tracer switched off (no
 * OTLP endpoint, see Telemetry.ts) a span still goes nowhere but costs its
 * setting up: the span is made and the whole service context copied to carry it
 * (12–16 µs measured with a context the service's size), which a path run once
 * per delivery should not pay for nothing.
 */
export const spanWhenTracing = (name: string, options: Tracer.SpanOptions) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(FiberRef.get(FiberRef.currentTracerEnabled), (on) => (on ? Effect.withSpan(self, name, options) : self))
