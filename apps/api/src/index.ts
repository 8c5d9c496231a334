export { type ApiAppOptions, createApiApp } from "./app";
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
