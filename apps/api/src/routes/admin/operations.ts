import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { providerActivity } from "@ripen/core";
import { models } from "@ripen/models";
import { circuitOf } from "@ripen/providers";
import { readQueueDepths } from "@ripen/queue";
import type { Queue } from "bullmq";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { z } from "zod";
import { nativeEnvelope } from "../envelope";
import { refuseUnknownParams } from "../v1_credits_ledger";
import type { RegisterAdminRoutes } from "./deps";
import { ok } from "./shared";

const WINDOW_MINUTES = 15;

export const providerHealthResponse = nativeEnvelope(
  z.array(
    z.object({
      id: z.string(),
      models: z.array(z.string()),
      circuit: z.enum(["closed", "half_open", "open"]),
      paused_until: z.string().nullable(),
      limits: z.object({
        requests_per_minute: z.number().nullable(),
        max_concurrent: z.number().nullable(),
      }),
      in_flight: z.int(),
      window_minutes: z.int(),
      attempts: z.int(),
      failed: z.int(),
      error_rate: z.number(),
      latency_ms: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }),
      traffic_share: z.number(),
    }),
  ),
).meta({ id: "AdminProviderHealth" });

export const queueDepthsResponse = nativeEnvelope(
  z.object({
    board_url: z.string(),
    queues: z.array(
      z.object({
        name: z.string(),
        waiting: z.int(),
        prioritized: z.int(),
        active: z.int(),
        delayed: z.int(),
        failed: z.int(),
        completed: z.int(),
        oldest_waiting_age_ms: z.number().nullable(),
      }),
    ),
  }),
).meta({ id: "AdminQueueDepths" });

export const sessionResponse = nativeEnvelope(
  z.object({ board_url: z.string(), expires_at: z.int() }),
).meta({ id: "AdminSession" });
export const sessionEndedResponse = nativeEnvelope(z.object({ signed_out: z.literal(true) })).meta({
  id: "AdminSessionEnded",
});
export const QUEUE_BOARD_PATH = "/admin/queues";
const SESSION_COOKIE = "ripen_admin_session";
const SESSION_MS = 12 * 3600_000;

/**
 * The board's session cookie: `<expiry>.<HMAC(key, expiry)>`, never the credential itself. The
 * key derives from ADMIN_TOKEN, so every API process accepts a cookie any of them issued; without
 * ADMIN_TOKEN (admin-scope keys only) it is random per process, and a board link works on the
 * process that issued it.
 */
function sessionKey(adminToken: string | undefined): Buffer {
  return adminToken
    ? createHmac("sha256", adminToken).update("ripen-admin-session").digest()
    : randomBytes(32);
}

const sign = (key: Buffer, expiry: string) =>
  createHmac("sha256", key).update(expiry).digest("base64url");

function validSession(key: Buffer, cookieHeader: string | undefined, nowMs: number): boolean {
  const value = cookieHeader
    ?.split(";")
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${SESSION_COOKIE}=`))
    ?.slice(SESSION_COOKIE.length + 1);
  const [expiry, mac] = value?.split(".") ?? [];
  if (!expiry || !mac || !/^\d+$/.test(expiry) || Number(expiry) < nowMs) return false;
  const expected = Buffer.from(sign(key, expiry));
  const given = Buffer.from(mac);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

const keys = new WeakMap<object, Buffer>();
const keyOf = (deps: { adminToken?: string }) => {
  let key = keys.get(deps);
  if (!key) {
    key = sessionKey(deps.adminToken);
    keys.set(deps, key);
  }
  return key;
};

/**
 * `GET /admin/v1/providers` (circuit, pause, limits, in flight, and the last 15 minutes' attempts,
 * errors, latency and share), `GET /admin/v1/queues` (jobs per state, oldest waiting), and
 * `POST`/`DELETE /admin/v1/session` (the queue board's cookie).
 */
export const registerAdminOperations: RegisterAdminRoutes = (router, _callerOf, deps) => {
  router.get("/providers", async (req, res) => {
    refuseUnknownParams(req.query as Record<string, unknown>, new Set());
    const operations = deps.operations;
    const declared = operations?.providers ?? [];
    const ids = declared.map((p) => p.id);
    const now = deps.clock.now();
    const [states, loads, activity] = await Promise.all([
      operations ? operations.health.states(ids) : new Map(),
      operations ? operations.health.loads(declared, now.getTime()) : [],
      providerActivity(deps.db, new Date(now.getTime() - WINDOW_MINUTES * 60_000)),
    ]);
    const total = activity.reduce((sum, a) => sum + a.attempts, 0);
    res.json(
      ok(
        declared.map((provider) => {
          const state = states.get(provider.id);
          const seen = activity.find((a) => a.provider === provider.id);
          return {
            id: provider.id,
            models: Object.values(models)
              .filter((spec) => spec.routes.some((r) => r.dialect === provider.dialect))
              .map((spec) => spec.id),
            circuit: circuitOf(state),
            paused_until:
              state && state.pausedForMs > 0
                ? new Date(now.getTime() + state.pausedForMs).toISOString()
                : null,
            limits: {
              requests_per_minute: provider.limits.requestsPerMinute ?? null,
              max_concurrent: provider.limits.maxConcurrent ?? null,
            },
            in_flight: loads[declared.indexOf(provider)]?.inFlight ?? 0,
            window_minutes: WINDOW_MINUTES,
            attempts: seen?.attempts ?? 0,
            failed: seen?.failed ?? 0,
            error_rate: seen && seen.attempts > 0 ? seen.failed / seen.attempts : 0,
            latency_ms: { p50: seen?.p50Ms ?? null, p95: seen?.p95Ms ?? null },
            traffic_share: total > 0 ? (seen?.attempts ?? 0) / total : 0,
          };
        }),
      ),
    );
  });

  router.get("/queues", async (req, res) => {
    refuseUnknownParams(req.query as Record<string, unknown>, new Set());
    const depths = await readQueueDepths(deps.operations?.queues ?? []);
    res.json(
      ok({
        board_url: QUEUE_BOARD_PATH,
        queues: depths.map((q) => ({
          name: q.name,
          ...q.counts,
          completed: q.completed,
          oldest_waiting_age_ms: q.oldestWaitingMs,
        })),
      }),
    );
  });

  router.post("/session", (_req, res) => {
    const expiry = String(deps.clock.now().getTime() + SESSION_MS);
    res.cookie(SESSION_COOKIE, `${expiry}.${sign(keyOf(deps), expiry)}`, {
      httpOnly: true,
      sameSite: "strict",
      path: "/admin",
      maxAge: SESSION_MS,
    });
    res.json(ok({ board_url: QUEUE_BOARD_PATH, expires_at: Math.floor(Number(expiry) / 1000) }));
  });
  router.delete("/session", (_req, res) => {
    res.clearCookie(SESSION_COOKIE, { path: "/admin" });
    res.json(ok({ signed_out: true }));
  });
};

/**
 * The queue board (`@bull-board/express`) at `/admin/queues`, behind the admin credential: the
 * session cookie `POST /admin/v1/session` sets, or a Bearer credential the admin API accepts.
 * Without either, a plain 401 (no redirect: the console is where one signs in).
 */
export function createQueueBoard(
  deps: { adminToken?: string; clock: { now(): Date } },
  queues: readonly Queue[],
  authenticateBearer: (req: Request) => Promise<boolean>,
): Router {
  const board = loadBoard(queues);
  board.catch(() => {});
  const router = express.Router();
  router.use(QUEUE_BOARD_PATH, async (req: Request, res: Response, next: NextFunction) => {
    try {
      if (validSession(keyOf(deps), req.get("cookie"), deps.clock.now().getTime())) return next();
      if (await authenticateBearer(req)) return next();
    } catch {
      // a refused credential (wrong scope, IP) is the same 401 here
    }
    res
      .status(401)
      .type("text/plain")
      .send("The queue board needs the admin credential: sign in to /console as the operator.\n");
  });
  router.use(QUEUE_BOARD_PATH, async (req, res, next) => {
    // The board's page links a web font host: the browser is told to load nothing from
    // elsewhere (the system font is used), as for the console.
    res.set(
      "content-security-policy",
      "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
    );
    try {
      (await board)(req, res, next);
    } catch (error) {
      next(error);
    }
  });
  return router;
}

interface BoardModules {
  api: { createBullBoard(options: object): unknown };
  adapter: { BullMQAdapter: new (queue: Queue) => object };
  express: {
    ExpressAdapter: new () => {
      setBasePath(path: string): void;
      getRouter(): express.RequestHandler;
    };
  };
}

/**
 * The board's express handler. Its packages are loaded by a specifier the compiler does not
 * follow: their type declarations pull in the browser's DOM types, which would change `fetch`'s
 * types for the whole server program.
 */
async function loadBoard(queues: readonly Queue[]): Promise<express.RequestHandler> {
  const load = (specifier: string) => import(specifier);
  const modules: BoardModules = {
    api: await load("@bull-board/api"),
    adapter: await load("@bull-board/api/bullMQAdapter"),
    express: await load("@bull-board/express"),
  };
  const serverAdapter = new modules.express.ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  modules.api.createBullBoard({
    queues: queues.map((queue) => new modules.adapter.BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: "Ripen queues" } },
  });
  return serverAdapter.getRouter();
}
