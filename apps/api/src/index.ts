export { type ApiAppOptions, createApiApp } from "./app";
export { toAivideoapiTask } from "./routes/native";
export {
  createTaskEventStreams,
  TASK_EVENT_NAME,
  type TaskEventStreams,
  type TaskEventStreamsOptions,
  type TaskEventStreamsStats,
} from "./task-event-streams";
