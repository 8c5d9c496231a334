export { type ApiAppOptions, createApiApp } from "./app";
export { toAivideoapiTask } from "./front-doors/aivideoapi";
export {
  createTaskEventStreams,
  TASK_EVENT_NAME,
  type TaskEventStreams,
  type TaskEventStreamsOptions,
  type TaskEventStreamsStats,
} from "./task-event-streams";
