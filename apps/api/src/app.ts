import { consoleRouter } from "@ripen/console";
import {
  type Clock,
  createTaskWriter,
  systemClock,
  type TaskEnder,
  type TaskOrder,
} from "@ripen/core";
import type { Executor } from "@ripen/db";
import { createAivideoapiRouter } from "@ripen/dialect-aivideoapi";
import { type HealthCheck, healthRouter } from "@ripen/infra";
import { httpMetrics, metricsHandler } from "@ripen/metrics";
import type { UrlPolicy } from "@ripen/net";
import type { AdmissionControl, ProviderDeclaration } from "@ripen/providers";
import type { ScheduleQueue, TaskNotifier } from "@ripen/queue";
import express, { type Express } from "express";
import type { Logger } from "pino";
import type { BatchEventStreams } from "./batch-event-streams";
import { createAdmission } from "./doors/admission";
import type { DoorDeps } from "./doors/deps";
import { createRequestRateLimiter, type RequestRateLimiterOptions } from "./doors/rate-limit";
import { doorOfPath, mountDialectDoors, registerExtensions } from "./routes";
import { createAdminQueueBoard, createAdminRouter } from "./routes/admin";
import type { AdminOperations } from "./routes/admin/deps";
import { nativeDoor } from "./routes/native";
import { openApiRouter } from "./routes/openapi";
import type { TaskEventStreams } from "./task-event-streams";

type ApiScheduleQueue = Pick<ScheduleQueue, "upsert" | "remove">;

export interface ApiAppOptions {
  db: Executor;
  enqueue(task: TaskOrder): Promise<void>;
  logger: Logger;
  clock?: Clock;
  /** What `/readyz` checks (e.g. Postgres, Redis); `/healthz` answers regardless. */
  readiness?: Record<string, HealthCheck>;
  bodyLimit?: string;
  /** The body limit of `POST /v1/batches` and schedules (64mb: 10,000 creates). */
  batchBodyLimit?: string;
  /** Adds a batch's items' jobs in bulk; else one `enqueue` each. */
  enqueueBatch?(tasks: readonly TaskOrder[]): Promise<void>;
  /** The schedules' job schedulers (`createScheduleQueue`); without it `/v1/schedules` is not served. */
  schedules?: ApiScheduleQueue;
  /** Serves `GET /v1/tasks/{id}/events` (live status); its owner closes it before the server. */
  taskEvents?: TaskEventStreams;
  /** Serves `GET /v1/batches/{id}/events` (live progress); its owner closes it before the server. */
  batchEvents?: BatchEventStreams;
  /** Tells live-status streams that a task changed, after a transition the API commits. */
  notifier?: TaskNotifier;
  /** Adds a client callback's job after commit (a redelivery); else the sweep does. */
  enqueueDelivery?(deliveryId: string): Promise<void>;
  /**
   * How the API ends tasks (cancels, batch cancels) and what follows each commit: built from the
   * process's Redis side with `createTaskEndingEffects` (`@ripen/queue`), as every process does.
   */
  ender: TaskEnder;
  /**
   * Which user URLs (`callback_url`, input image URLs) a create may name. Default
   * `{ allowLoopback: false }`: loopback, private, link-local and metadata hosts are a 400.
   */
  userUrls?: UrlPolicy;
  /** The provider registry (`RIPEN_PROVIDERS`), shown by `GET /v1/models`; default the defaults. */
  providers?: readonly ProviderDeclaration[];
  /**
   * Per-key request rates: pass the Redis every API process shares (and QUEUE_PREFIX,
   * RATE_LIMIT_PER_MINUTE). Without Redis each process counts alone, in memory.
   */
  rateLimit?: RequestRateLimiterOptions;
  /**
   * Admission control (`createAdmissionControl` over the providers' shared health): creates no
   * provider can start before their deadline are refused with 429 capacity_exceeded. Absent,
   * every create is accepted.
   */
  capacity?: AdmissionControl;
  /** TRUSTED_PROXIES: peers whose X-Forwarded-For names the client (for IP allowlists). */
  trustedProxies?: readonly string[];
  /** `ADMIN_TOKEN`: the operator's credential for `/admin/v1`; unset, only admin-scope keys. */
  adminToken?: string;
  /** METRICS_TOKEN: `GET /metrics` asks for it as a Bearer token; unset, it is open. */
  metricsToken?: string;
  /** The providers' health and the queues the operator's console shows (and the queue board). */
  operations?: AdminOperations;
}

/**
 * The public API: the native API (the aivideoapi dialect's superset, served by that dialect's
 * router over Ripen's backend) and a front door for each other seed dialect, all over the same
 * accounts, credits and tasks. Every endpoint is in `routes/`.
 */
export function createApiApp(options: ApiAppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);

  app.use(httpMetrics({ service: "api", doorOf: (req) => doorOfPath(req.originalUrl) }));

  const doorDeps: DoorDeps = {
    db: options.db,
    tasks: createTaskWriter(options.db),
    enqueue: options.enqueue,
    clock: options.clock ?? systemClock,
    logger: options.logger,
    userUrls: options.userUrls ?? { allowLoopback: false },
    admission: createAdmission({
      rateLimiter: createRequestRateLimiter(options.rateLimit),
      trustedProxies: options.trustedProxies,
    }),
    capacity: options.capacity,
  };
  const onUnexpectedError = (error: unknown, req: express.Request) =>
    options.logger.error(
      { err: error, method: req.method, url: req.originalUrl },
      "unexpected error",
    );
  // The operator's API and queue board, with their own credential, before the native API's
  // authentication (one deps object: the board's session key is derived once for both).
  const adminDeps = { ...doorDeps, adminToken: options.adminToken, operations: options.operations };
  const nativeApi = createAivideoapiRouter(nativeDoor(doorDeps), {
    bodyLimit: options.bodyLimit,
    // A batch of up to 10,000 creates, or a schedule's template of one.
    largeBody: {
      limit: options.batchBodyLimit ?? "64mb",
      matches: (req) => req.path === "/v1/batches" || req.path.startsWith("/v1/schedules"),
    },
    extensions: (router, principalOf) =>
      registerExtensions(router, principalOf, {
        ...doorDeps,
        taskEvents: options.taskEvents,
        batchEvents: options.batchEvents,
        notifier: options.notifier,
        enqueueDelivery: options.enqueueDelivery,
        ender: options.ender,
        enqueueBatch: options.enqueueBatch,
        schedules: options.schedules,
        providers: options.providers,
      }),
    onUnexpectedError,
  });

  // Clients' requests first: a create or a read then walks none of the layers of the pages' and
  // the operator's routers below (about 7% less of the API's CPU per create, bench phase a). The
  // doors are under their prefixes and every native endpoint under /v1/, none of which those
  // routers serve; any other path reaches the native API last, as before.
  mountDialectDoors(app, doorDeps, { bodyLimit: options.bodyLimit, onUnexpectedError });
  app.use((req, res, next) => (req.path.startsWith("/v1/") ? nativeApi(req, res, next) : next()));

  // The web console's page and bundle: public files; it signs in against the API like any client.
  app.use(consoleRouter());
  // Every service's figures when they share this process (`npm start`), else the API's own.
  app.get("/metrics", metricsHandler({ token: options.metricsToken }));
  app.use(
    healthRouter({
      checks: options.readiness,
      onFailure: (check, error) => options.logger.warn({ err: error, check }, "not ready"),
    }),
  );
  // Public, before the native API's authentication.
  app.use(openApiRouter());
  app.use(createAdminQueueBoard(adminDeps));
  app.use("/admin/v1", createAdminRouter(adminDeps));
  // Everything else is the native API, in its envelope (its 404 included).
  app.use(nativeApi);
  return app;
}
