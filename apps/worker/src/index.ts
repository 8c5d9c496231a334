export {
  createDeliver,
  DELIVERY_TIMEOUT_MS,
  type DeliverDeps,
  deliveryHeaders,
  sendDelivery,
} from "./deliver";
export { nextPollDelay, type PollPolicy } from "./poll-delay";
export { createRunTask, defaultRetryPolicy, type RetryPolicy, type RunTaskDeps } from "./run-task";
export { type DeliverySweepResult, type SweepResult, sweep } from "./sweep";
export { type RipenWorker, startWorker, type WorkerOptions } from "./worker";
