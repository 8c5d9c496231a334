import {
  type Clock,
  createTaskReader,
  isDatabaseUnavailable,
  isIdOf,
  systemClock,
  type TaskEnder,
} from "@ripen/core";
import type { Database } from "@ripen/db";
import { type HealthCheck, healthRouter } from "@ripen/infra";
import { callbacksReceived, httpMetrics, metricsHandler } from "@ripen/metrics";
import type { ProviderHealth, Providers } from "@ripen/providers";
import { inTaskSpan } from "@ripen/telemetry";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import { receiveCallback } from "./receive-callback";

export interface CallbacksAppOptions {
  db: Database;
  providers: Providers;
  secret: string;
  /**
   * Ends tasks and does what follows (hint, client callback, provider slot), and wakes a task's
   * job when a callback makes its next attempt due: `createCallbacksEnder`.
   */
  ender: TaskEnder;
  /**
   * Providers' circuits (`createProviderHealth`, or `createCallbacksEnder`'s): a callback that
   * reports a success counts toward its provider's circuit, and ends the failures it saw counted.
   * Absent without Redis.
   */
  health?: Pick<ProviderHealth, "recordSuccess">;
  logger: Logger;
  clock?: Clock;
  /** What `/readyz` checks (here, Postgres); `/healthz` answers regardless. */
  readiness?: Record<string, HealthCheck>;
  /** METRICS_TOKEN: `GET /metrics` asks for it as a Bearer token; unset, it is open. */
  metricsToken?: string;
  /**
   * Whether this app serves `/metrics` (default true); `npm start` serves every service's
   * figures once, on the API's port.
   */
  serveMetrics?: boolean;
}

/** The only surface exposed to providers: `POST /callbacks/{provider}/{taskId}/{token}`. */
export function createCallbacksApp(options: CallbacksAppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  const deps = {
    db: options.db,
    providers: options.providers,
    secret: options.secret,
    clock: options.clock ?? systemClock,
    logger: options.logger,
    ender: options.ender,
    reader: createTaskReader(options.db),
    health: options.health,
  };

  app.use(httpMetrics({ service: "callbacks", doorOf: () => "callbacks" }));
  app.use(
    healthRouter({
      checks: options.readiness,
      onFailure: (check, error) => options.logger.warn({ err: error, check }, "not ready"),
    }),
  );
  if (options.serveMetrics !== false) {
    app.get("/metrics", metricsHandler({ token: options.metricsToken }));
  }

  // Raw bytes, whatever the content type: the body is stored exactly as it came.
  app.post(
    "/callbacks/:provider/:taskId/:token",
    express.raw({ type: () => true, limit: "1mb" }),
    async (req, res) => {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const taskId = req.params.taskId as string;
      const receive = () =>
        receiveCallback(deps, {
          provider: req.params.provider as string,
          taskId,
          token: req.params.token as string,
          rawBody,
          headers: {
            "content-type": req.get("content-type") ?? "",
            "user-agent": req.get("user-agent") ?? "",
          },
        });
      // In the task's trace when the path names a task at all (garbage starts no trace).
      const result = isIdOf("task", taskId)
        ? await inTaskSpan(
            "task.callback",
            taskId,
            { "ripen.provider": req.params.provider },
            receive,
          )
        : await receive();
      options.logger.info(
        { provider: req.params.provider, taskId: req.params.taskId, outcome: result.outcome },
        "provider callback",
      );
      // The path names the provider: only a configured one becomes a label value.
      const provider = options.providers.get(req.params.provider as string)
        ? (req.params.provider as string)
        : "unknown";
      callbacksReceived.inc({ provider, outcome: result.outcome });
      res
        .status(result.status)
        .json({ ok: result.status === 200, outcome: result.outcome, message: result.message });
    },
  );

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ ok: false, message: "Not found." });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // Unreadable requests (bad percent-encoding in the path, a broken gzip body, too large) are
    // the sender's fault: body-parser and the router mark them with a 4xx status.
    const status = (error as { status?: unknown }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      res
        .status(status === 413 ? 413 : 400)
        .json({ ok: false, message: "Callback could not be read." });
      return;
    }
    // Providers retry a callback that failed: a 503 asks for exactly that.
    if (isDatabaseUnavailable(error)) {
      options.logger.warn({ err: error }, "callback deferred: database unavailable");
      res
        .status(503)
        .set("retry-after", "5")
        .json({ ok: false, message: "Unavailable; retry later." });
      return;
    }
    options.logger.error({ err: error }, "callback handling failed");
    res.status(500).json({ ok: false, message: "Internal error; retry later." });
  });
  return app;
}
