export { startTracing, type Tracing } from "./start";
export {
  inCallSpan,
  inTaskRootSpan,
  inTaskSpan,
  logTraceFields,
  queueTelemetry,
  taskEvent,
  taskTraceIds,
  tracingEnabled,
} from "./task-trace";
