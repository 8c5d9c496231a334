import { createHash, randomBytes } from "node:crypto";
import {
  context,
  type Attributes as OtelAttributes,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import type { BullMQOtel } from "bullmq-otel";

/**
 * One trace per task, with nothing that must be carried: a task's trace id and its root span's id
 * are derived from the task id, so the API (which starts the root, `task.create`), the worker, the
 * callbacks service and the client delivery each join the same trace by knowing the task id alone,
 * across processes, Redis restarts and jobs re-added by the sweep. No column, no header; a job
 * carries a context (BullMQ's hook, `queueTelemetry`) only to show its queue hop, and a job
 * without one still lands in its task's trace.
 */
export function taskTraceIds(taskId: string): { traceId: string; rootSpanId: string } {
  const digest = createHash("sha256").update(`ripen-task-trace:${taskId}`).digest("hex");
  return { traceId: digest.slice(0, 32), rootSpanId: digest.slice(32, 48) };
}

let enabled = false;
/** The root the next span started takes its ids from (set and used synchronously). */
let nextRoot: { traceId: string; rootSpanId: string } | undefined;

/**
 * The SDK's id generator: random ids, except while a task's root span is being started (`nextRoot`
 * is set around that one synchronous call), which takes the ids `taskTraceIds` derives.
 */
export const taskIdGenerator = {
  generateTraceId(): string {
    return nextRoot?.traceId ?? randomBytes(16).toString("hex");
  },
  generateSpanId(): string {
    return nextRoot?.rootSpanId ?? randomBytes(8).toString("hex");
  },
};

let queueHook: BullMQOtel | undefined;

/** Called once the SDK is registered: until then every helper here runs its work untraced. */
export function markTracingEnabled(hook: BullMQOtel): void {
  enabled = true;
  queueHook = hook;
}

export const tracingEnabled = (): boolean => enabled;

/**
 * BullMQ's telemetry hook, for a Queue's or Worker's `telemetry` option: undefined (BullMQ traces
 * nothing, adds nothing to a job) unless tracing started. A job added inside a task's span
 * carries its context, so the worker's processing of it joins the task's trace.
 */
export const queueTelemetry = (): BullMQOtel | undefined => queueHook;

/** The attribute every span of a task's trace starts with. */
const TASK_ID = "ripen.task_id";

/** The sampler's rule for a span with no parent: a trace is kept only when it is a task's. */
export const taskTracesOnly = (attributes: OtelAttributes): boolean =>
  attributes[TASK_ID] !== undefined;

type Attributes = Record<string, string | number | boolean | undefined>;

const tracer = () => trace.getTracer("ripen");

async function runInSpan<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(context.active(), span), work);
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    throw error;
  } finally {
    span.end();
  }
}

const clean = (attributes: Attributes) =>
  Object.fromEntries(
    Object.entries(attributes).filter(([, value]) => value !== undefined),
  ) as Record<string, string | number | boolean>;

/** The task's root span (its create): log lines written inside it carry its trace id. */
export function inTaskRootSpan<T>(
  name: string,
  taskId: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  if (!enabled) return work();
  nextRoot = taskTraceIds(taskId);
  let span: Span;
  try {
    span = tracer().startSpan(name, {
      root: true,
      attributes: clean({ [TASK_ID]: taskId, ...attributes }),
    });
  } finally {
    nextRoot = undefined;
  }
  return runInSpan(span, work);
}

/**
 * A span of the task's trace: a child of the active span when that one is already the task's (a
 * submit inside a worker step), else of the task's root span, in whichever process runs it.
 */
function startTaskSpan(name: string, taskId: string, attributes: Attributes): Span {
  const { traceId, rootSpanId } = taskTraceIds(taskId);
  const active = trace.getActiveSpan()?.spanContext();
  const parent =
    active?.traceId === traceId
      ? context.active()
      : trace.setSpanContext(ROOT_CONTEXT, {
          traceId,
          spanId: rootSpanId,
          traceFlags: TraceFlags.SAMPLED,
          isRemote: true,
        });
  return tracer().startSpan(
    name,
    { attributes: clean({ [TASK_ID]: taskId, ...attributes }) },
    parent,
  );
}

/** A step of the task's life, in its trace: log lines written inside carry the trace id. */
export function inTaskSpan<T>(
  name: string,
  taskId: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  if (!enabled) return work();
  return runInSpan(startTaskSpan(name, taskId, attributes), work);
}

/**
 * A moment of the task's life (its ending), recorded as a span of no duration; `during` (its
 * log lines) runs inside it, so they carry the trace id.
 */
export function taskEvent(
  name: string,
  taskId: string,
  attributes: Attributes,
  during: () => void,
): void {
  if (!enabled) {
    during();
    return;
  }
  const span = startTaskSpan(name, taskId, attributes);
  try {
    context.with(trace.setSpan(context.active(), span), during);
  } finally {
    span.end();
  }
}

/**
 * A call out of Ripen (an upstream provider's API) inside whatever span is active: nothing when
 * none is (or tracing is off), so only a task's steps record them.
 */
export function inCallSpan<T>(
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  if (!enabled || !trace.getActiveSpan()?.isRecording()) return work();
  return runInSpan(
    tracer().startSpan(name, { kind: SpanKind.CLIENT, attributes: clean(attributes) }),
    work,
  );
}

/** For pino's `mixin`: the active span's trace and span ids, on every line written inside one. */
export function logTraceFields(): Record<string, string> {
  if (!enabled) return {};
  const span = trace.getActiveSpan();
  // BullMQ's housekeeping spans are not kept (see taskTracesOnly): their ids lead nowhere.
  if (!span?.isRecording()) return {};
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}
