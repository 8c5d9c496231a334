export { afterCommit, type EndingEffects } from "./after-commit";
export {
  type EndTaskArgs,
  type EndTasksArgs,
  endTask,
  endTasks,
  type Settlement,
  type TaskEnding,
} from "./end-task";
export {
  batchCanceledOutcome,
  canceledOutcome,
  expiredOutcome,
  type TaskOutcome,
} from "./outcomes";
export { createTaskEnder, type TaskEnder } from "./task-ender";
