import { trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import {
  inTaskSpan,
  logTraceFields,
  queueTelemetry,
  startTracing,
  taskTraceIds,
  tracingEnabled,
} from "./index";

describe("tracing without OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  it("starts no SDK: the work runs untraced and log lines carry nothing", async () => {
    expect(await startTracing("api", {})).toBeUndefined();
    expect(tracingEnabled()).toBe(false);
    // Queues and workers get no telemetry hook: BullMQ adds nothing to a job.
    expect(queueTelemetry()).toBeUndefined();
    const seen = await inTaskSpan("task.submit", "task_x", {}, async () => ({
      span: trace.getActiveSpan(),
      fields: logTraceFields(),
    }));
    expect(seen).toEqual({ span: undefined, fields: {} });
  });

  it("derives the same ids for a task in every process, and different ones per task", () => {
    const a = taskTraceIds("task_01abc");
    expect(a).toEqual(taskTraceIds("task_01abc"));
    expect(a.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.rootSpanId).toMatch(/^[0-9a-f]{16}$/);
    expect(taskTraceIds("task_01abd").traceId).not.toBe(a.traceId);
  });
});
