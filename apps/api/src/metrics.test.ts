import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createDb, terminalTaskStatuses } from "@ripen/db";
import { startTestStack, type TestStack } from "@ripen/testkit";
import express from "express";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiApp } from "./app";

// `/metrics` read as Prometheus reads it: the text format parsed, and the figures an operator
// watches moving when tasks run through the stack (one process, so one registry for all).

type Sample = { name: string; labels: Record<string, string>; value: number };

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `labels`. */
const total = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

let stack: TestStack;
let clientEndpoint: Server;
let clientUrl: string;
let received = 0;

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`${stack.apiUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  return parseExposition(await res.text());
}

/** Scrapes until `check` holds: gauges read at scrape time are cached for a second. */
async function scrapeUntil(check: (samples: Sample[]) => boolean): Promise<Sample[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const samples = await scrape();
    if (check(samples) || Date.now() > deadline) return samples;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  clientEndpoint = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received += 1;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => clientEndpoint.listen(0, "127.0.0.1", resolve));
  clientUrl = `http://127.0.0.1:${(clientEndpoint.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await stack?.close();
  clientEndpoint?.close();
});

describe("/metrics", () => {
  it("moves as tasks are created, wait in the queue, run upstream, call back and end", async () => {
    const { apiKey } = await stack.createAccount(10_000);
    const before = await scrape();
    const create = (i: number) =>
      stack.request("POST", "/v1/images/generations", {
        key: apiKey,
        body: {
          model: "nano-banana-2",
          input: { prompt: `metrics ${i}` },
          callback_url: clientUrl,
        },
      });
    const created = await Promise.all([0, 1, 2].map(create));
    const ids = created.map((res) => {
      expect(res.status).toBe(200);
      return res.body.data.taskId as string;
    });
    // Through another door too: its requests carry its label.
    const viaNanobanana = await fetch(`${stack.apiUrl}/api/v1/images/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ prompt: "metrics via nanobanana", model: "nano-banana-2" }),
    });
    expect(viaNanobanana.status).toBeLessThan(500);

    // No worker yet: the jobs wait (in line by when they are due), and the queue gauges say so.
    const queued = (s: Parameters<typeof total>[0]) =>
      total(s, "ripen_queue_jobs", { queue: "tasks", state: "waiting" }) +
      total(s, "ripen_queue_jobs", { queue: "tasks", state: "prioritized" });
    const waiting = await scrapeUntil((s) => queued(s) >= 3 && total(s, "ripen_credits_held") > 0);
    expect(queued(waiting)).toBeGreaterThanOrEqual(3);
    expect(total(waiting, "ripen_credits_held")).toBeGreaterThan(0);

    await stack.startWorker();
    for (const id of ids) {
      expect(await stack.waitForTask(id, [...terminalTaskStatuses], 30_000)).toBe("succeeded");
    }
    const deadline = Date.now() + 15_000;
    while (received < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(received).toBe(3);

    const after = await scrapeUntil(
      (s) =>
        total(s, "ripen_deliveries_total") - total(before, "ripen_deliveries_total") >= 3 &&
        queued(s) === 0,
    );
    const moved = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, labels) - total(before, name, labels);

    expect(moved("ripen_tasks_created_total", { model: "nano-banana-2", door: "native" })).toBe(3);
    expect(
      moved("ripen_tasks_ended_total", {
        model: "nano-banana-2",
        door: "native",
        outcome: "succeeded",
      }),
    ).toBe(3);
    expect(moved("ripen_credits_captured_total", { model: "nano-banana-2" })).toBeGreaterThan(0);
    expect(
      moved("ripen_http_requests_total", {
        service: "api",
        door: "native",
        method: "POST",
        route: "/v1/images/generations",
        status: "200",
      }),
    ).toBe(3);
    expect(moved("ripen_http_requests_total", { door: "nanobanana" })).toBe(1);
    expect(
      moved("ripen_upstream_request_duration_seconds_count", { operation: "submit", result: "ok" }),
    ).toBeGreaterThanOrEqual(3);
    expect(moved("ripen_callbacks_received_total")).toBeGreaterThanOrEqual(3);
    expect(moved("ripen_deliveries_total", { outcome: "succeeded", attempt: "1" })).toBe(3);
    expect(moved("ripen_queue_wait_seconds_count", { queue: "tasks" })).toBeGreaterThanOrEqual(3);
    expect(total(after, "ripen_queue_jobs", { queue: "tasks", state: "waiting" })).toBe(0);

    // Every provider of the stack has a circuit figure, closed.
    for (const provider of stack.providers.list) {
      const circuit = after.filter(
        (s) => s.name === "ripen_provider_circuit_state" && s.labels.provider === provider.id,
      );
      expect(
        circuit.map((s) => s.value),
        provider.id,
      ).toEqual([0]);
    }
    // The process's own health: event-loop lag, and Redis up.
    expect(after.some((s) => s.name === "ripen_nodejs_eventloop_lag_seconds")).toBe(true);
    // No raw URL (a task id) ever becomes a label value.
    for (const sample of after) {
      for (const value of Object.values(sample.labels)) expect(value).not.toMatch(/task_/);
    }
  });

  it("asks for METRICS_TOKEN when one is set", async () => {
    const handle = createDb(stack.db.url, { max: 1 });
    try {
      const app = express().use(
        createApiApp({
          db: handle.db,
          enqueue: async () => {},
          logger: pino({ level: "silent" }),
          ender: stack.ender,
          metricsToken: "metrics-token-0123456789",
        }),
      );
      const server = app.listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
      try {
        expect((await fetch(url)).status).toBe(401);
        const wrong = await fetch(url, { headers: { authorization: "Bearer nope" } });
        expect(wrong.status).toBe(401);
        const right = await fetch(url, {
          headers: { authorization: "Bearer metrics-token-0123456789" },
        });
        expect(right.status).toBe(200);
        expect(await right.text()).toContain("ripen_http_requests_total");
      } finally {
        server.close();
      }
    } finally {
      await handle.close();
    }
  });
});
