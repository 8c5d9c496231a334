export { TestClock } from "./clock";
export { createTestDatabase, type TestDatabase } from "./database";
export { type InvariantViolation, ledgerViolations } from "./invariants";
export {
  startTestStack,
  TEST_CALLBACK_SECRET,
  type TestStack,
  type TestStackOptions,
} from "./stack";
export { waitForTask } from "./wait-for-task";
