import express from "express";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { healthRouter, listen, postgresCheck, redisCheck } from "./index";
import { freePort } from "./local";

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Serves the health router with these options and returns a GET helper. */
async function serve(options: Parameters<typeof healthRouter>[0]) {
  const app = express();
  app.use(healthRouter(options));
  const server = await listen(app, { port: 0, host: "127.0.0.1", name: "health test" });
  cleanups.push(server.close);
  return async (path: string) => {
    const response = await fetch(`${server.url}${path}`);
    return { status: response.status, body: await response.json() };
  };
}

function pool(): pg.Pool {
  const created = new pg.Pool({ connectionString: inject("pgAdminUrl"), max: 2 });
  cleanups.push(() => created.end());
  return created;
}

function redis(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null });
  // A client on a closed port keeps reporting the refused connection.
  client.on("error", () => {});
  cleanups.push(async () => client.disconnect());
  return client;
}

describe("health", () => {
  it("is ready when Postgres and Redis answer", async () => {
    const client = redis(inject("redisUrl"));
    await client.ping();
    const get = await serve({
      checks: { postgres: postgresCheck(pool()), redis: redisCheck(client) },
    });
    expect(await get("/readyz")).toEqual({
      status: 200,
      body: { ok: true, checks: { postgres: "ok", redis: "ok" } },
    });
    expect(await get("/healthz")).toEqual({ status: 200, body: { ok: true } });
  });

  it("is not ready, naming the check, when Redis does not answer; still alive", async () => {
    const failures: string[] = [];
    const get = await serve({
      checks: {
        postgres: postgresCheck(pool()),
        redis: redisCheck(redis(`redis://127.0.0.1:${await freePort()}`)),
      },
      onFailure: (name, error) => failures.push(`${name}: ${(error as Error).message}`),
    });
    expect(await get("/readyz")).toEqual({
      status: 503,
      body: { ok: false, checks: { postgres: "ok", redis: "failed" } },
    });
    expect(failures).toEqual([expect.stringMatching(/^redis: redis connection is /)]);
    expect(await get("/healthz")).toEqual({ status: 200, body: { ok: true } });
  });

  it("bounds each check by the timeout", async () => {
    const slow = pool();
    const get = await serve({
      checks: { postgres: () => slow.query("select pg_sleep(2)") },
      timeoutMs: 100,
    });
    const started = performance.now();
    expect(await get("/readyz")).toEqual({
      status: 503,
      body: { ok: false, checks: { postgres: "timed out" } },
    });
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it("is ready with no checks", async () => {
    const get = await serve({});
    expect(await get("/readyz")).toEqual({ status: 200, body: { ok: true, checks: {} } });
  });
});
