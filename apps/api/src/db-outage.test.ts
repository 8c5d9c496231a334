import { createServer, type Server, type Socket } from "node:net";
import { createTaskEnder, isDatabaseUnavailable } from "@ripen/core";
import { createDb, type DbHandle, tasks } from "@ripen/db";
import { listen } from "@ripen/infra";
import { ledgerViolations, startTestStack, type TestStack } from "@ripen/testkit";
import { count } from "drizzle-orm";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { createApiApp } from "./app";

let stack: TestStack;
let key: string;
/** Connected to the server's maintenance database, so it outlives this file's database outage. */
let admin: DbHandle;

/** Errors nobody handled: a pg client's "error" event without a listener lands here. */
const uncaught: unknown[] = [];
const recordUncaught = (error: unknown) => uncaught.push(error);

beforeAll(async () => {
  process.on("uncaughtException", recordUncaught);
  stack = await startTestStack({ worker: false });
  ({ apiKey: key } = await stack.createAccount(1_000));
  admin = createDb(inject("pgAdminUrl"), { max: 1 });
});
afterAll(async () => {
  process.off("uncaughtException", recordUncaught);
  // Whatever a failed test left behind, the database must take connections again to be dropped.
  await admin?.pool.query(`alter database ${stack.db.name} with allow_connections true`);
  await admin?.close();
  await stack?.close();
});
afterEach(() => {
  expect(uncaught.splice(0)).toEqual([]);
});

/** Only this file's database: the other test files share the server. */
const allowConnections = (allowed: boolean) =>
  admin.pool.query(`alter database ${stack.db.name} with allow_connections ${allowed}`);

/** Ends the sessions on this file's database (all but `sparePid`), waiting until each exits. */
async function terminateSessions(sparePid = 0): Promise<number> {
  const result = await admin.pool.query(
    "select pg_terminate_backend(pid, 10000) from pg_stat_activity where datname = $1 and pid <> $2",
    [stack.db.name, sparePid],
  );
  return result.rowCount ?? 0;
}

const taskCount = async () => (await stack.db.db.select({ n: count() }).from(tasks))[0]!.n;

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    body: (await response.json()) as any,
  };
}

const createBody = { model: "nano-banana-2", input: { prompt: "during an outage" } };

function expectUnavailable(res: Awaited<ReturnType<typeof call>>) {
  expect(res.status).toBe(503);
  expect(res.body).toEqual({
    error: {
      code: "service_unavailable",
      message: expect.stringMatching(/temporarily unavailable.*retry/i),
      type: "api_error",
    },
  });
  expect(Number(res.retryAfter)).toBeGreaterThan(0);
}

describe("Postgres outage", () => {
  it("503 while Postgres refuses connections, and back to 200 on its own when it accepts them", async () => {
    const before = await taskCount();
    expect((await call("GET", "/v1/credits")).status).toBe(200);
    // A client checked out and idle when its connection dies: it emits "error" with nobody
    // waiting on a query, which is what used to crash the process.
    const idle = await stack.db.pool.connect();

    await allowConnections(false);
    expect(await terminateSessions()).toBeGreaterThan(0);
    try {
      expectUnavailable(await call("GET", "/v1/credits"));
      expectUnavailable(await call("POST", "/v1/images/generations", createBody));
      expectUnavailable(await call("GET", "/v1/tasks/task_01kaaaaaaaaaaaaaaaaaaaaaaa"));
      // An unknown key cannot come from the key cache: the lookup itself answers 503.
      const fresh = await fetch(`${stack.apiUrl}/v1/credits`, {
        headers: { authorization: "Bearer sk-never-seen-before-0000000000" },
      });
      expect(fresh.status).toBe(503);
    } finally {
      idle.release();
      await allowConnections(true);
    }

    expect((await call("GET", "/v1/credits")).status).toBe(200);
    const created = await call("POST", "/v1/images/generations", createBody);
    expect(created.status).toBe(200);
    // Only the create after recovery wrote a task; the refused one wrote nothing.
    expect(await taskCount()).toBe(before + 1);
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });

  it("503 for requests whose connection is killed mid-query; nothing half-written", async () => {
    const before = await taskCount();
    const credits = (await call("GET", "/v1/credits")).body.data;
    // Holds the tables the requests need, so they are provably inside their queries when killed.
    const lockerDb = createDb(stack.db.url, { max: 1 });
    const locker = await lockerDb.pool.connect();
    const lockerPid: number = (await locker.query("select pg_backend_pid() as pid")).rows[0].pid;
    await locker.query("begin");
    await locker.query("lock table accounts, tasks in access exclusive mode");

    const inFlight = [
      call("GET", "/v1/credits"),
      call("POST", "/v1/images/generations", createBody),
    ];
    await waitForLockWaiters(inFlight.length);
    // The locker survives: ending it first would let a waiting request through before its kill.
    await terminateSessions(lockerPid);
    const [creditsRes, createRes] = await Promise.all(inFlight);
    expectUnavailable(creditsRes!);
    expectUnavailable(createRes!);
    await locker.query("rollback");
    locker.release();
    await lockerDb.close();

    // Connections were never refused: the pool replaces the dead ones by itself.
    const after = await call("GET", "/v1/credits");
    expect(after.status).toBe(200);
    expect(after.body.data).toEqual(credits);
    expect(await taskCount()).toBe(before);
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });

  it("503, not a hang, when Postgres accepts the TCP connection but never answers", async () => {
    // A server that swallows everything: the pool's connection timeout is all that ends the wait.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    const handle = createDb(`postgres://ripen:ripen@127.0.0.1:${port}/none`, {
      connectionTimeoutMillis: 200,
    });
    const api = await listen(
      createApiApp({
        db: handle.db,
        enqueue: async () => {},
        logger: pino({ level: "silent" }),
        ender: createTaskEnder({ logger: pino({ level: "silent" }) }),
      }),
      { port: 0, host: "127.0.0.1", name: "API" },
    );
    try {
      const response = await fetch(`${api.url}/v1/credits`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(response.status).toBe(503);
      expect(((await response.json()) as any).error.code).toBe("service_unavailable");
    } finally {
      await api.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      await handle.close();
    }
  });
});

/** Resolves once `n` client sessions of this file's database are waiting on a lock. */
async function waitForLockWaiters(n: number): Promise<void> {
  // Each round trip is the pause: no timer, and it ends the moment the requests are queued.
  // Client backends only: autovacuum can queue behind the same lock.
  for (;;) {
    const { rows } = await admin.pool.query(
      `select count(*)::int as waiting from pg_stat_activity
       where datname = $1 and backend_type = 'client backend' and wait_event_type = 'Lock'`,
      [stack.db.name],
    );
    if (rows[0].waiting >= n) return;
  }
}

describe("isDatabaseUnavailable", () => {
  const pgError = (code: string, message = "x") => Object.assign(new Error(message), { code });
  const wrapped = (cause: unknown) =>
    Object.assign(new Error("Failed query: select 1\nparams: "), { cause });

  it.each<[string, unknown]>([
    ["a refused connection", pgError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432")],
    [
      "a refused connection to every address",
      new AggregateError([pgError("ECONNREFUSED"), pgError("ECONNREFUSED")], ""),
    ],
    ["a reset connection", pgError("ECONNRESET")],
    ["a connect timeout", new Error("timeout exceeded when trying to connect")],
    ["a terminated connection", new Error("Connection terminated unexpectedly")],
    ["admin_shutdown", pgError("57P01", "terminating connection due to administrator command")],
    ["crash_shutdown", pgError("57P02")],
    ["cannot_connect_now", pgError("57P03", "the database system is starting up")],
    ["too_many_connections", pgError("53300", "sorry, too many clients already")],
    ["a connection exception", pgError("08006")],
    [
      "a database not accepting connections",
      pgError("55000", 'database "x" is not currently accepting connections'),
    ],
    ["any of these wrapped by drizzle", wrapped(pgError("57P01"))],
    [
      "a client broken by an earlier error",
      new Error("Client has encountered a connection error and is not queryable"),
    ],
  ])("true for %s", (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each<[string, unknown]>([
    ["a unique violation", pgError("23505", "duplicate key value violates unique constraint")],
    ["invalid text", pgError("22021", "invalid byte sequence for encoding UTF8: 0x00")],
    ["another 55000", pgError("55000", "lastval is not yet defined in this session")],
    ["a bug", new TypeError("Cannot read properties of undefined")],
    ["a wrapped bug", wrapped(pgError("42P01", 'relation "nope" does not exist'))],
    ["not an error", "ECONNREFUSED"],
    ["nothing", undefined],
  ])("false for %s", (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
