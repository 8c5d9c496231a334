import type { Clock, Principal } from "@ripen/core";
import type { Executor } from "@ripen/db";
import type { Request, Router } from "express";
import type { Logger } from "pino";

/** What Ripen's own endpoints (beside the aivideoapi dialect's) are built from. */
export interface ExtensionDeps {
  db: Executor;
  logger: Logger;
  clock: Clock;
  /** Adds a task's job (after commit). */
  enqueue(taskId: string): Promise<void>;
}

/**
 * Registers Ripen's own endpoints on the native API's router, after its authentication and body
 * parsing, so they answer with its keys and in its error envelope. One route file per endpoint
 * or small group.
 */
export function registerExtensions(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: ExtensionDeps,
): void {
  void router;
  void principalOf;
  void deps;
}
