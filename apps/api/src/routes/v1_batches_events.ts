import { getBatchForAccount, type Principal } from "@ripen/core";
import type { Executor } from "@ripen/db";
import type { Request, Router } from "express";
import type { BatchEventStreams } from "../batch-event-streams";
import { orUnavailable } from "../doors/database-down";
import { batchIdOf } from "./v1_batches";

/**
 * `GET /v1/batches/{batchId}/events`: the batch's progress as server-sent events. Each
 * `event: batch` carries `GET /v1/batches/{id}`'s data: one at once, one whenever its counts or
 * state change; the one showing it ended ends the stream. `Last-Event-ID` needs no handling: a
 * reconnect is sent the current state, which is all a client needs. Authentication and the 404
 * for another account's batch happen before the stream starts, in the error envelope.
 */
export function registerV1BatchesEvents(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: { db: Executor; batchEvents?: BatchEventStreams },
): void {
  const streams = deps.batchEvents;
  if (!streams) return;
  router.get("/v1/batches/:batchId/events", async (req, res) => {
    const principal = principalOf(req);
    const batchId = batchIdOf(req);
    const batch = await orUnavailable(() =>
      getBatchForAccount(deps.db, principal.accountId, batchId),
    );
    await streams.open({ res, batch });
  });
}
