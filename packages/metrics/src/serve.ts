import { timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { collectDefaultMetrics } from "prom-client";
import { httpRequestDuration, httpRequests, registry } from "./definitions";

/** Reads gauges kept elsewhere (Redis, Postgres, BullMQ) into the registry, before a scrape. */
export type Refresh = () => Promise<void>;

const refreshers = new Set<Refresh>();
let defaultsStarted = false;

/**
 * Adds a gauge source read at scrape time; returns its removal (a closing service calls it).
 * A source that fails is skipped for that scrape: its gauges keep their last values.
 */
export function addRefresh(refresh: Refresh): () => void {
  refreshers.add(refresh);
  return () => refreshers.delete(refresh);
}

/**
 * A refresh that runs at most once per `everyMs` (default 1 s): several Prometheus servers, or a
 * scrape interval shorter than the figures move, do not each cost a Redis or Postgres read.
 */
export function cached(refresh: Refresh, everyMs = 1_000): Refresh {
  let last = 0;
  let running: Promise<void> | undefined;
  return () => {
    if (running) return running;
    if (Date.now() - last < everyMs) return Promise.resolve();
    running = refresh().finally(() => {
      last = Date.now();
      running = undefined;
    });
    return running;
  };
}

/** The process's own figures (event-loop lag, heap, GC, CPU), once per process. */
function startDefaultMetrics(): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  collectDefaultMetrics({ register: registry, prefix: "ripen_" });
}

/** The exposition text after every source has been read. */
export async function metricsText(): Promise<string> {
  startDefaultMetrics();
  await Promise.all([...refreshers].map((refresh) => refresh().catch(() => undefined)));
  return registry.metrics();
}

const sameToken = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * `GET /metrics` in Prometheus's text format. With `token` (METRICS_TOKEN) a scrape must send
 * `Authorization: Bearer <token>`: the API's port is public, and queue depths and provider
 * states are an operator's business. Without it the endpoint is open, as on a private network.
 */
export function metricsHandler(options: { token?: string } = {}) {
  startDefaultMetrics();
  return async (req: Request, res: Response): Promise<void> => {
    if (options.token) {
      const header = req.get("authorization") ?? "";
      const given = header.startsWith("Bearer ") ? header.slice(7) : "";
      if (!sameToken(given, options.token)) {
        res.status(401).type("text/plain").send("metrics: a valid Bearer token is required\n");
        return;
      }
    }
    res.type(registry.contentType).send(await metricsText());
  };
}

/**
 * Counts and times every request of an express app: its route pattern (never the raw URL, so
 * the label stays bounded; `unmatched` for a 404 no route took) and its door.
 */
export function httpMetrics(options: { service: string; doorOf: (req: Request) => string }) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.once("finish", () => {
      const route = req.route?.path;
      const labels = {
        service: options.service,
        door: options.doorOf(req),
        method: req.method,
        route: typeof route === "string" ? route : "unmatched",
      };
      httpRequests.inc({ ...labels, status: String(res.statusCode) });
      httpRequestDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
