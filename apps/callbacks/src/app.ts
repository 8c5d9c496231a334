import { type Clock, type ProviderRegistry, systemClock } from "@ripen/core";
import type { Database } from "@ripen/db";
import { type HealthCheck, healthRouter } from "@ripen/infra";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import { receiveCallback } from "./receive-callback";

export interface CallbacksAppOptions {
  db: Database;
  providers: ProviderRegistry;
  secret: string;
  logger: Logger;
  clock?: Clock;
  /** What `/readyz` checks (here, Postgres); `/healthz` answers regardless. */
  readiness?: Record<string, HealthCheck>;
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
  };

  app.use(
    healthRouter({
      checks: options.readiness,
      onFailure: (check, error) => options.logger.warn({ err: error, check }, "not ready"),
    }),
  );

  // Raw text, whatever the content type: the body is stored exactly as it came.
  app.post(
    "/callbacks/:provider/:taskId/:token",
    express.text({ type: () => true, limit: "1mb" }),
    async (req, res) => {
      const rawBody = typeof req.body === "string" ? req.body : "";
      const result = await receiveCallback(deps, {
        provider: req.params.provider as string,
        taskId: req.params.taskId as string,
        token: req.params.token as string,
        rawBody,
        headers: {
          "content-type": req.get("content-type") ?? "",
          "user-agent": req.get("user-agent") ?? "",
        },
      });
      options.logger.info(
        { provider: req.params.provider, taskId: req.params.taskId, outcome: result.outcome },
        "provider callback",
      );
      res
        .status(result.status)
        .json({ ok: result.status === 200, outcome: result.outcome, message: result.message });
    },
  );

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ ok: false, message: "Not found." });
  });
  app.use(
    (
      error: { status?: number; type?: string },
      _req: Request,
      res: Response,
      _next: NextFunction,
    ) => {
      if (
        error.type === "entity.too.large" ||
        error.type?.startsWith("encoding") ||
        error.type?.startsWith("charset")
      ) {
        res.status(400).json({ ok: false, message: "Callback body could not be read." });
        return;
      }
      options.logger.error({ err: error }, "callback handling failed");
      res.status(500).json({ ok: false, message: "Internal error; retry later." });
    },
  );
  return app;
}
