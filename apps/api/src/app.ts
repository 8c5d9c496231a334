import { type Clock, createTaskWriter, systemClock } from "@ripen/core";
import type { Executor } from "@ripen/db";
import { createAivideoapiRouter } from "@ripen/dialect-aivideoapi";
import { type HealthCheck, healthRouter } from "@ripen/infra";
import express, { type Express } from "express";
import type { Logger } from "pino";
import { aivideoapiFrontDoor } from "./front-doors/aivideoapi";
import { registerExtensions } from "./routes";

export interface ApiAppOptions {
  db: Executor;
  enqueue(taskId: string): Promise<void>;
  logger: Logger;
  clock?: Clock;
  /** What `/readyz` checks (e.g. Postgres, Redis); `/healthz` answers regardless. */
  readiness?: Record<string, HealthCheck>;
  bodyLimit?: string;
}

/**
 * The public API. The native API is the aivideoapi dialect's superset, so it is served by that
 * dialect's router over Ripen's backend.
 */
export function createApiApp(options: ApiAppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);

  app.use(
    healthRouter({
      checks: options.readiness,
      onFailure: (check, error) => options.logger.warn({ err: error, check }, "not ready"),
    }),
  );

  const backend = aivideoapiFrontDoor({
    db: options.db,
    tasks: createTaskWriter(options.db),
    enqueue: options.enqueue,
    clock: options.clock ?? systemClock,
    logger: options.logger,
  });
  const clock = options.clock ?? systemClock;
  app.use(
    createAivideoapiRouter(backend, {
      bodyLimit: options.bodyLimit,
      extensions: (router, principalOf) =>
        registerExtensions(router, principalOf, {
          db: options.db,
          logger: options.logger,
          clock,
          enqueue: options.enqueue,
        }),
      onUnexpectedError: (error, req) =>
        options.logger.error(
          { err: error, method: req.method, url: req.originalUrl },
          "unexpected error",
        ),
    }),
  );
  return app;
}
