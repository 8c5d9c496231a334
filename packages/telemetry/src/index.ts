export { startTracing, type Tracing } from "./start";
export {
  inTaskRootSpan,
  inTaskSpan,
  logTraceFields,
  taskEvent,
  taskTraceIds,
  tracingEnabled,
} from "./task-trace";
