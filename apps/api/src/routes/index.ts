import type { Principal, TaskEnder, TaskOrder } from "@ripen/core";
import type { ProviderDeclaration } from "@ripen/providers";
import type { ScheduleQueue, TaskNotifier } from "@ripen/queue";
import type { Request, Router } from "express";
import type { BatchEventStreams } from "../batch-event-streams";
import type { DoorDeps, DoorRouterOptions } from "../doors/deps";
import type { TaskEventStreams } from "../task-event-streams";
import { createKieDoor } from "./kie";
import { createNanobananaDoor } from "./nanobanana";
import { createRevidDoor } from "./revid";
import { registerV1Batches } from "./v1_batches";
import { registerV1BatchesEvents } from "./v1_batches_events";
import { registerV1Cost } from "./v1_cost";
import { registerV1CreditsLedger } from "./v1_credits_ledger";
import { registerV1Keys } from "./v1_keys";
import { registerV1Models } from "./v1_models";
import { registerV1Schedules } from "./v1_schedules";
import { registerV1TasksCancel } from "./v1_tasks_cancel";
import { registerV1TasksDeliveries } from "./v1_tasks_deliveries";
import { registerV1TasksEvents } from "./v1_tasks_events";
import { registerV1TasksHistory } from "./v1_tasks_history";
import { registerV1TasksList } from "./v1_tasks_list";
import { registerV1Usage } from "./v1_usage";
import { registerV1VideosGenerations } from "./v1_videos_generations";
import { registerV1WebhookSecret } from "./v1_webhook_secret";

/** What Ripen's own endpoints (beside the aivideoapi dialect's) are built from. */
export interface ExtensionDeps extends DoorDeps {
  /** Live status (`GET /v1/tasks/{id}/events`); without it the endpoint is not served. */
  taskEvents?: TaskEventStreams;
  /** Live batch progress (`GET /v1/batches/{id}/events`); without it the endpoint is not served. */
  batchEvents?: BatchEventStreams;
  /** Tells live-status streams (in any API process) that a task changed; call after commit. */
  notifier?: TaskNotifier;
  /** How a task ends (a cancel, a batch's cancel) and what follows its commit. */
  ender: TaskEnder;
  /**
   * Adds a client callback's job (after commit): a redelivery. Optional: without it the
   * worker's sweep adds the job once the delivery is overdue.
   */
  enqueueDelivery?(deliveryId: string): Promise<void>;
  /** Adds a batch's items' jobs in bulk (after commit). */
  enqueueBatch?(tasks: readonly TaskOrder[]): Promise<void>;
  /**
   * The schedules' BullMQ job schedulers (created, changed, removed with each schedule); without
   * it the schedule endpoints are not served.
   */
  schedules?: Pick<ScheduleQueue, "upsert" | "remove">;
  /** The provider registry, for `GET /v1/models` (default: the registry's defaults). */
  providers?: readonly ProviderDeclaration[];
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
  registerV1VideosGenerations(router, principalOf, deps);
  registerV1TasksHistory(router, principalOf, deps);
  registerV1TasksEvents(router, principalOf, deps);
  registerV1TasksCancel(router, principalOf, deps);
  registerV1TasksList(router, principalOf, deps);
  registerV1TasksDeliveries(router, principalOf, deps);
  registerV1WebhookSecret(router, principalOf, deps);
  registerV1Batches(router, principalOf, deps);
  registerV1BatchesEvents(router, principalOf, deps);
  registerV1Models(router, principalOf, deps);
  registerV1Cost(router, principalOf, deps);
  registerV1CreditsLedger(router, principalOf, deps);
  registerV1Usage(router, principalOf, deps);
  registerV1Keys(router, principalOf, deps);
  if (deps.schedules)
    registerV1Schedules(router, principalOf, { ...deps, schedules: deps.schedules });
}

/**
 * Which door serves a path: each seed dialect's router sees only the paths under its prefixes
 * (so its authentication, body parsing and 404 answer in its own envelope there), and the native
 * API everything else. Most specific first: kie's jobs API lives inside nanobanana's `/api/v1/`.
 */
const dialectDoors: readonly {
  name: string;
  prefix: string;
  router(deps: DoorDeps, o: DoorRouterOptions): Router;
}[] = [
  { name: "kie", prefix: "/api/v1/jobs/", router: createKieDoor },
  { name: "nanobanana", prefix: "/api/v1/", router: createNanobananaDoor },
  { name: "revid", prefix: "/paid/", router: createRevidDoor },
];

/** The door a path is served by (`admin` for the operator's API), as the metrics label it. */
export function doorOfPath(path: string): string {
  if (path.startsWith("/admin/")) return "admin";
  return dialectDoors.find((door) => path.startsWith(door.prefix))?.name ?? "native";
}

/** Mounts the nanobanana, kie and revid doors on `app`, each under its prefix. */
export function mountDialectDoors(app: Router, deps: DoorDeps, options: DoorRouterOptions): void {
  const mounted = dialectDoors.map((door) => ({ ...door, handle: door.router(deps, options) }));
  app.use((req, res, next) => {
    const door = mounted.find((d) => req.path.startsWith(d.prefix));
    if (door) door.handle(req, res, next);
    else next();
  });
}
