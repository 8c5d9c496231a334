import { context, propagation, trace } from "@opentelemetry/api";
import { markTracingEnabled, taskIdGenerator, taskTracesOnly } from "./task-trace";

export interface Tracing {
  /** Exports what is left and stops (a service's shutdown awaits it). */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (OTLP over HTTP, the
 * standard `OTEL_*` variables apply: headers, `OTEL_SERVICE_NAME`...); unset, nothing is loaded
 * and every span helper runs its work untraced. `service` names the process (`ripen-api`...).
 * Call it before any queue or worker is made: they take BullMQ's telemetry hook when made.
 */
export async function startTracing(
  service: string,
  env: Record<string, string | undefined> = process.env,
): Promise<Tracing | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const [sdk, { OTLPTraceExporter }, resources, hooks, core, { BullMQOtel }] = await Promise.all([
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/core"),
    import("bullmq-otel"),
  ]);
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({
      "service.name": env.OTEL_SERVICE_NAME ?? `ripen-${service}`,
    }),
    idGenerator: taskIdGenerator,
    // BullMQ traces its own housekeeping too (each fetch of a job, each lock renewal); only
    // the spans of a task's trace are kept (see taskTracesOnly).
    sampler: new sdk.ParentBasedSampler({
      root: {
        shouldSample: (_context, _traceId, _name, _kind, attributes) => ({
          decision: taskTracesOnly(attributes)
            ? sdk.SamplingDecision.RECORD_AND_SAMPLED
            : sdk.SamplingDecision.NOT_RECORD,
        }),
        toString: () => "RipenTaskTracesOnly",
      },
    }),
    spanProcessors: [
      new sdk.BatchSpanProcessor({ exporter: new OTLPTraceExporter(), scheduledDelayMillis: 500 }),
    ],
  });
  context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable());
  // BullMQ's hook writes the context into a job as a `traceparent` and reads it back.
  propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  markTracingEnabled(new BullMQOtel({ tracerName: "bullmq" }));
  return { shutdown: () => provider.shutdown() };
}
