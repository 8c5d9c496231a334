/**
 * SIGTERM, as an orchestrator stops a container: the worker's production entry point stops
 * taking jobs, lets the upstream calls it has in flight answer, records them, and exits 0 within
 * its stated 30 s (past that it exits 1). Nothing it held is lost or paid twice: another worker
 * finishes every task, each submitted upstream once. The API and the callbacks service exit 0 on
 * SIGTERM too (their allowance is 15 s).
 */
import { terminalTaskStatuses } from "@ripen/db";
import { freePort } from "@ripen/infra";
import { defaultProviders } from "@ripen/providers";
import {
  endingsNotOnce,
  ledgerViolations,
  startTestStack,
  TEST_CALLBACK_SECRET,
  type TestStack,
} from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answers, type Service, spawnService, waitUntil } from "../../../bench/lib/processes";

const TASKS = 20;
const STALL_MS = 2_000;
const url = (port: number) => `http://127.0.0.1:${port}`;

let stack: TestStack;
const started: Service[] = [];

beforeAll(async () => {
  // No in-process worker: the spawned ones below do the work.
  stack = await startTestStack({ worker: false });
  stack.sandbox.configure({ generationMs: 200 });
});
afterAll(async () => {
  await Promise.all(started.map((service) => service.stop()));
  await stack?.close();
});

const common = () => ({
  NODE_ENV: "production",
  LOG_LEVEL: "info",
  DATABASE_URL: stack.db.url,
  REDIS_URL: stack.redisUrl,
  QUEUE_PREFIX: stack.prefix,
  CALLBACK_SECRET: TEST_CALLBACK_SECRET,
});

/** A service from its production entry point, resolved once it answers /readyz. */
async function start(
  name: string,
  entry: string,
  env: Record<string, string>,
  readyPort: number,
  onLine?: (line: string) => void,
): Promise<Service> {
  const service = spawnService(name, entry, { ...common(), ...env }, [], onLine);
  started.push(service);
  await waitUntil(name, 60_000, answers(`${url(readyPort)}/readyz`), service);
  return service;
}

async function startWorker(
  name: string,
  onLine?: (line: string) => void,
): Promise<Service & { healthPort: number }> {
  const healthPort = await freePort();
  const service = await start(
    name,
    "apps/worker/src/main.ts",
    {
      WORKER_HEALTH_PORT: String(healthPort),
      PUBLIC_CALLBACK_URL: stack.callbacksUrl,
      SANDBOX_URL: stack.sandboxUrl,
      POLL_BASE_MS: "100",
      POLL_MAX_MS: "500",
    },
    healthPort,
    onLine,
  );
  return Object.assign(service, { healthPort });
}

/** The sample lines of a service's `/metrics` (Prometheus text format), comments left out. */
async function metricLines(port: number): Promise<string[]> {
  const res = await fetch(`${url(port)}/metrics`);
  expect(res.status).toBe(200);
  return (await res.text()).split("\n").filter((line) => line !== "" && !line.startsWith("#"));
}

/** Sends SIGTERM and resolves with the exit code once the process has gone. */
async function terminate(service: Service): Promise<number | null> {
  await service.stop();
  return service.exitCode();
}

describe("SIGTERM", () => {
  it("a worker with upstream calls in flight exits 0, and nothing it held is lost or paid twice", async () => {
    const { apiKey } = await stack.createAccount(TASKS * 100);
    // Every provider holds its answers, so the signal lands while submits are in flight.
    for (const provider of defaultProviders) {
      stack.sandbox.stallNextSubmits(TASKS, STALL_MS, provider.id);
    }
    const lines: string[] = [];
    const first = await startWorker("worker 1", (line) => lines.push(line));

    let upstreamCreated = 0;
    const someInFlight = new Promise<void>((resolve) =>
      stack.sandbox.events.on("created", () => {
        upstreamCreated += 1;
        if (upstreamCreated === 5) resolve();
      }),
    );
    const ids = await Promise.all(
      Array.from({ length: TASKS }, async (_, i) => {
        const res = await fetch(`${stack.apiUrl}/v1/images/generations`, {
          method: "POST",
          headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "nano-banana-2", input: { prompt: `sigterm ${i}` } }),
        });
        expect(res.status).toBe(200);
        return ((await res.json()) as { data: { taskId: string } }).data.taskId;
      }),
    );
    await someInFlight;

    expect(await terminate(first)).toBe(0);
    // The held submits were answered and recorded before the worker closed.
    expect(lines.some((line) => line.includes("closed worker"))).toBe(true);
    const submittedBeforeStop = lines.filter((l) => l.includes('"event":"task.submitted"'));
    expect(submittedBeforeStop.length).toBeGreaterThanOrEqual(5);

    // A fresh worker finishes what the first left, without paying for any task again.
    const second = await startWorker("worker 2");
    for (const id of ids) {
      const status = await stack.waitForTask(id, [...terminalTaskStatuses], 60_000);
      expect(status, id).toBe("succeeded");
    }
    expect(stack.sandbox.stats.created).toBe(TASKS);
    expect(await endingsNotOnce(stack.db.db, ids)).toEqual([]);
    expect(await ledgerViolations(stack.db.db)).toEqual([]);

    // The production worker serves its figures on its health port.
    const figures = await metricLines(second.healthPort);
    expect(figures).toContainEqual(expect.stringMatching(/^ripen_redis_up 1$/));
    expect(figures).toContainEqual(
      expect.stringMatching(/^ripen_db_pool_connections\{pool="worker",state="total"\} \d/),
    );
    expect(figures).toContainEqual(expect.stringMatching(/^ripen_nodejs_eventloop_lag_seconds /));
  }, 120_000);

  it("the API and the callbacks service exit 0", async () => {
    const apiPort = await freePort();
    const api = await start("api", "apps/api/src/main.ts", { API_PORT: String(apiPort) }, apiPort);
    const callbacksPort = await freePort();
    const callbacks = await start(
      "callbacks",
      "apps/callbacks/src/main.ts",
      { CALLBACKS_PORT: String(callbacksPort) },
      callbacksPort,
    );
    // Each production entry point serves its own `/metrics`: the API with what it reads for
    // everyone (queues, circuits, credits held), the callbacks service with its pool.
    const apiFigures = await metricLines(apiPort);
    expect(apiFigures).toContainEqual(expect.stringMatching(/^ripen_queue_jobs\{queue="tasks",/));
    expect(apiFigures).toContainEqual(expect.stringMatching(/^ripen_provider_circuit_state\{/));
    expect(apiFigures).toContainEqual(expect.stringMatching(/^ripen_credits_held \d/));
    expect(await metricLines(callbacksPort)).toContainEqual(
      expect.stringMatching(/^ripen_db_pool_connections\{pool="callbacks",state="total"\} \d/),
    );
    expect(await terminate(api)).toBe(0);
    expect(await terminate(callbacks)).toBe(0);
  }, 90_000);
});
