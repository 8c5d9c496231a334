import type { Clock, TaskOrder, TaskWriter } from "@ripen/core";
import type { Executor } from "@ripen/db";
import type { UrlPolicy } from "@ripen/net";
import type { AdmissionControl } from "@ripen/providers";
import type { Request } from "express";
import type { Logger } from "pino";
import type { Admission } from "./admission";

/** What every front door's backend is built from: Ripen's accounts, credits and tasks. */
export interface DoorDeps {
  db: Executor;
  /** Writes creates, batching those that arrive together (see createTaskWriter). */
  tasks: TaskWriter;
  /** Adds the task's job after commit. A failure here is recovered by the sweep. */
  enqueue(task: TaskOrder): Promise<void>;
  clock: Clock;
  logger: Logger;
  /** Which user URLs a create may name (the SSRF guard's submit-time check). */
  userUrls: UrlPolicy;
  /** Every door's key checks beside the key itself: client address and request rate. */
  admission: Admission;
  /**
   * Admission control: whether some provider can start the task before its deadline (none:
   * every create is accepted).
   */
  capacity?: AdmissionControl;
}

/** What every dialect door's router takes beside Ripen's deps. */
export interface DoorRouterOptions {
  /** Largest accepted JSON body (body-parser syntax). */
  bodyLimit?: string;
  onUnexpectedError?: (error: unknown, req: Request) => void;
}
