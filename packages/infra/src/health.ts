import express, { type RequestHandler, Router } from "express";
import { type Listening, listen } from "./process";

/** Resolves if the dependency is usable; rejects (with why) if not. */
export type HealthCheck = () => Promise<unknown>;

export interface HealthOptions {
  /** What `/readyz` checks, by name, e.g. `{ postgres: postgresCheck(pool) }`. */
  checks?: Record<string, HealthCheck>;
  /** How long each check may take before it counts as failed (default 1000 ms). */
  timeoutMs?: number;
  /** Told why a check failed; the answer itself names only the check, as it may be public. */
  onFailure?: (name: string, error: unknown) => void;
}

export type CheckResult = "ok" | "failed" | "timed out";

class CheckTimeout extends Error {}

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new CheckTimeout(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([check(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `GET /healthz`: liveness, the process answers (never touches a dependency, so a database outage
 * does not get every replica restarted). `GET /readyz`: readiness, every check passes, each
 * bounded by `timeoutMs` and run in parallel; 200 `{ok:true, checks}` or 503 naming the failures.
 */
export function healthRouter(options: HealthOptions = {}): Router {
  const checks = Object.entries(options.checks ?? {});
  const timeoutMs = options.timeoutMs ?? 1_000;
  const router = Router();

  router.get("/healthz", (_req, res) => {
    res.set("cache-control", "no-store").json({ ok: true });
  });

  router.get("/readyz", async (_req, res) => {
    const results = await Promise.all(
      checks.map(async ([name, check]): Promise<[string, CheckResult]> => {
        try {
          await runCheck(check, timeoutMs);
          return [name, "ok"];
        } catch (error) {
          options.onFailure?.(name, error);
          return [name, error instanceof CheckTimeout ? "timed out" : "failed"];
        }
      }),
    );
    const ok = results.every(([, result]) => result === "ok");
    res
      .status(ok ? 200 : 503)
      .set("cache-control", "no-store")
      .json({ ok, checks: Object.fromEntries(results) });
  });

  return router;
}

/** Postgres answers `select 1` through the service's own pool. */
export function postgresCheck(pool: { query(text: string): Promise<unknown> }): HealthCheck {
  return () => pool.query("select 1");
}

/**
 * Redis answers PING on the service's own connection. A connection that is not ready fails at
 * once: a PING would wait in its offline queue, and each probe would add one more.
 */
export function redisCheck(redis: { status: string; ping(): Promise<unknown> }): HealthCheck {
  return async () => {
    if (redis.status !== "ready") throw new Error(`redis connection is ${redis.status}`);
    await redis.ping();
  };
}

/**
 * A server with only the health endpoints (and `GET /metrics` when given its handler), for a
 * process that serves nothing else (the standalone worker), so an orchestrator can probe it and
 * Prometheus scrape it like the others.
 */
export function serveHealth(
  options: HealthOptions & {
    port: number;
    host?: string;
    name: string;
    portVariable?: string;
    metrics?: RequestHandler;
  },
): Promise<Listening> {
  const { port, host, name, portVariable, metrics, ...health } = options;
  const app = express();
  app.disable("x-powered-by");
  app.use(healthRouter(health));
  if (metrics) app.get("/metrics", metrics);
  return listen(app, { port, host, name, portVariable });
}
