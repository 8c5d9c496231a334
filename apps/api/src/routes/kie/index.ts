import { kieFamilyRecordView, type Principal } from "@ripen/core";
import { createKieRouter, type KieBackend, type RecordInfoData } from "@ripen/dialect-kie";
import type { Router } from "express";
import { admitRequest } from "../../doors/admission";
import { createTaskThroughDoor } from "../../doors/create-task";
import { unavailableWhenDatabaseIsDown } from "../../doors/database-down";
import type { DoorDeps, DoorRouterOptions } from "../../doors/deps";
import { readTask } from "../../doors/read-task";
import { kieCreateOf } from "./models";

export { kieDoorPrices, kiePricesOf, priceKieRequest } from "./models";

/**
 * The kie door's backend: document 003's jobs API over Ripen's accounts, credits and tasks. A
 * create records the request as received (so `param` echoes it and `model` reads as the client's
 * id) and its `callBackUrl` as the task's client callback, whose body is the recordInfo answer.
 */
export function kieDoor(deps: DoorDeps): KieBackend<Principal> {
  return unavailableWhenDatabaseIsDown<KieBackend<Principal>>({
    authenticate: (apiKey, req) => admitRequest(deps, apiKey, req),
    async createTask(principal, request, options = {}) {
      const create = kieCreateOf(request);
      const task = await createTaskThroughDoor(deps, principal, {
        door: "kie",
        model: create.spec,
        input: create.input,
        price: create.credits,
        doorRequest: request,
        callbackUrl: request.callBackUrl ?? null,
        callbackField: "callBackUrl",
        idempotencyKey: options.idempotencyKey,
        idempotencyScope: { endpoint: "POST /api/v1/jobs/createTask", body: request },
      });
      return { taskId: task.id };
    },
    async getTask(principal, taskId): Promise<RecordInfoData> {
      // Any task of the caller's, whichever door it came through, in kie's shape.
      return kieFamilyRecordView(await readTask(deps.db, principal, taskId));
    },
  });
}

/** `POST /api/v1/jobs/createTask` and `GET /api/v1/jobs/recordInfo`, by the dialect's router. */
export function createKieDoor(deps: DoorDeps, options: DoorRouterOptions): Router {
  return createKieRouter(kieDoor(deps), {
    bodyLimit: options.bodyLimit,
    onUnexpectedError: options.onUnexpectedError,
  });
}
