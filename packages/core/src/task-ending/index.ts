export { afterCommit, type EndingEffects } from "./after-commit";
export {
  type EndGroupArgs,
  type EndTaskArgs,
  endGroup,
  endTask,
  type GroupEnding,
  type ReceivedCallback,
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
