import { context, trace } from "@opentelemetry/api";
import { markTracingEnabled, taskIdGenerator } from "./task-trace";

export interface Tracing {
  /** Exports what is left and stops (a service's shutdown awaits it). */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (OTLP over HTTP, the
 * standard `OTEL_*` variables apply: headers, `OTEL_SERVICE_NAME`...); unset, nothing is loaded
 * and every span helper runs its work untraced. `service` names the process (`ripen-api`...).
 */
export async function startTracing(
  service: string,
  env: Record<string, string | undefined> = process.env,
): Promise<Tracing | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const [{ TracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, resources, hooks] =
    await Promise.all([
      import("@opentelemetry/sdk-trace"),
      import("@opentelemetry/exporter-trace-otlp-http"),
      import("@opentelemetry/resources"),
      import("@opentelemetry/context-async-hooks"),
    ]);
  const provider = new TracerProvider({
    resource: resources.resourceFromAttributes({
      "service.name": env.OTEL_SERVICE_NAME ?? `ripen-${service}`,
    }),
    idGenerator: taskIdGenerator,
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), scheduledDelayMillis: 500 }),
    ],
  });
  context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  markTracingEnabled();
  return { shutdown: () => provider.shutdown() };
}
