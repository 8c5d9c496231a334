import { pgEnum } from "drizzle-orm/pg-core";
import {
  attemptStates,
  batchStates,
  callbackOutcomes,
  deliveryStates,
  failureKinds,
  ledgerEntryKinds,
  scheduleRunStates,
  scheduleStates,
  taskStatuses,
} from "./constants";

export const taskStatusEnum = pgEnum("task_status", taskStatuses);
export const ledgerEntryKindEnum = pgEnum("ledger_entry_kind", ledgerEntryKinds);
export const callbackOutcomeEnum = pgEnum("callback_outcome", callbackOutcomes);
export const attemptStateEnum = pgEnum("attempt_state", attemptStates);
export const failureKindEnum = pgEnum("failure_kind", failureKinds);
export const deliveryStateEnum = pgEnum("delivery_state", deliveryStates);
export const batchStateEnum = pgEnum("batch_state", batchStates);
export const scheduleStateEnum = pgEnum("schedule_state", scheduleStates);
export const scheduleRunStateEnum = pgEnum("schedule_run_state", scheduleRunStates);
