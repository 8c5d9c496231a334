export { nextPollDelay, type PollPolicy } from "./poll-delay";
export { createRunTask, defaultRetryPolicy, type RetryPolicy, type RunTaskDeps } from "./run-task";
export { type SweepResult, sweep } from "./sweep";
export { type RipenWorker, startWorker, type WorkerOptions } from "./worker";
