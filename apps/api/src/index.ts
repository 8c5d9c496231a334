export { type ApiAppOptions, createApiApp } from "./app";
export {
  BATCH_EVENT_NAME,
  type BatchEventStreams,
  type BatchEventStreamsOptions,
  type BatchEventStreamsStats,
  createBatchEventStreams,
} from "./batch-event-streams";
export { configureDoorPrices } from "./doors/pricing";
export { toAivideoapiTask } from "./routes/native";
export { reportSharedState } from "./shared-state-metrics";
export {
  createTaskEventStreams,
  TASK_EVENT_NAME,
  type TaskEventStreams,
  type TaskEventStreamsOptions,
  type TaskEventStreamsStats,
} from "./task-event-streams";
