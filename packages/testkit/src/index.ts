export { TestClock } from "./clock";
export { createTestDatabase, type TestDatabase } from "./database";
export {
  type FuzzCase,
  type FuzzOptions,
  type FuzzTarget,
  fuzzCase,
  fuzzCases,
  sendFuzzCase,
} from "./fuzz";
export { type InvariantViolation, ledgerViolations } from "./invariants";
export { type EndingCount, endingsNotOnce } from "./once-each";
export { type PrivateRedis, startPrivateRedis } from "./private-redis";
export { type PrivateRedisCluster, startPrivateRedisCluster } from "./private-redis-cluster";
export { publishQueuePace, startedKeys } from "./queue-pace";
export { completedCallbackBody, createRunningTask, openTestAttempt } from "./running-task";
export { openEventStream, type SseEvent, SseReader } from "./sse-reader";
export {
  startTestStack,
  TEST_CALLBACK_SECRET,
  type TestStack,
  type TestStackOptions,
} from "./stack";
export { until } from "./until";
export { TEST_TASK_EVENTS_CHANNEL, waitForTask } from "./wait-for-task";
