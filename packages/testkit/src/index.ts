export { TestClock } from "./clock";
export { createTestDatabase, type TestDatabase } from "./database";
export { type InvariantViolation, ledgerViolations } from "./invariants";
export {
  startTestStack,
  TEST_CALLBACK_SECRET,
  type TestStack,
  type TestStackOptions,
} from "./stack";
export { TEST_TASK_EVENTS_CHANNEL, waitForTask } from "./wait-for-task";
