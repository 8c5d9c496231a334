import { Agent } from "node:http";
import { tasks } from "@ripen/db";
import {
  type FuzzTarget,
  fuzzCase,
  ledgerViolations,
  sendFuzzCase,
  startTestStack,
  type TestStack,
} from "@ripen/testkit";
import { count, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Fixed: a failure names its case index, and the same index reproduces it. */
const SEED = 0x5eed_2026;
const CASES_PER_ENDPOINT = 3_300;
const CONCURRENCY = 8;

let stack: TestStack;
let key: string;
let taskId: string;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

// Only the API is under test: the worker stays off, so accepted tasks just wait in the queue.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  // Enough that no accepted mutation ever runs into insufficient credits.
  ({ apiKey: key } = await stack.createAccount(100_000_000));
  const created = await stack.request("POST", "/v1/images/generations", {
    key,
    body: { model: "nano-banana-2", input: { prompt: "the task GET is fuzzed against" } },
  });
  taskId = created.body.data.taskId;
});
afterAll(async () => {
  agent.destroy();
  await stack?.close();
});

const taskCount = async () => (await stack.db.db.select({ n: count() }).from(tasks))[0]!.n;

/** What is wrong with an answer, if anything: a 5xx, a body that is not JSON, a bare error. */
function problemWith(status: number, text: string): string | null {
  if (status >= 500) return `status ${status}`;
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return `status ${status} with a body that is not JSON: ${text.slice(0, 80)}`;
  }
  if (status < 400) return null;
  const error = body?.error;
  const isEnvelope =
    Object.keys(body).join() === "error" &&
    Object.keys(error ?? {})
      .sort()
      .join() === "code,message,type" &&
    [error.code, error.message, error.type].every((v) => typeof v === "string" && v.length > 0);
  return isEnvelope ? null : `status ${status} without the error envelope: ${text.slice(0, 120)}`;
}

interface FuzzRun {
  /** Responses per status code. */
  statuses: Record<number, number>;
  failures: string[];
  /** Task ids of creates that were answered 200. */
  created: string[];
}

async function fuzz(target: FuzzTarget): Promise<FuzzRun> {
  const run: FuzzRun = { statuses: {}, failures: [], created: [] };
  let next = 0;
  const worker = async () => {
    while (next < CASES_PER_ENDPOINT) {
      // Made one at a time: some bodies are hundreds of kilobytes.
      const mutation = fuzzCase(target, SEED, next++);
      const { status, text } = await sendFuzzCase(stack.apiUrl, mutation, agent);
      run.statuses[status] = (run.statuses[status] ?? 0) + 1;
      const problem = problemWith(status, text);
      if (problem) run.failures.push(`#${mutation.index} ${mutation.label}: ${problem}`);
      else if (status === 200) {
        // Routing ignores case and a trailing slash, so the answer says whether a task was made.
        const id = JSON.parse(text).data?.taskId;
        if (typeof id === "string") run.created.push(id);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return run;
}

const statusesBelow500 = (run: FuzzRun) => Object.keys(run.statuses).map(Number);

describe(`${CASES_PER_ENDPOINT} seeded mutations per endpoint`, () => {
  const creates: [string, string, unknown][] = [
    [
      "/v1/images/generations",
      "nano-banana-2",
      {
        model: "nano-banana-2",
        input: {
          prompt: "A cute cat wearing sunglasses",
          resolution: "2K",
          aspect_ratio: "16:9",
          output_format: "png",
          image_urls: ["https://example.com/a.png", "https://example.com/b.jpg"],
        },
        callback_url: "https://client.example/hooks/ripen",
      },
    ],
    [
      "/v1/images/generations",
      "nano-banana-pro",
      {
        model: "nano-banana-pro",
        input: {
          prompt: "A paper boat",
          resolution: "4K",
          aspect_ratio: "4:5",
          num_images: 2,
          quality: "hd",
          image_urls: ["https://example.com/a.png"],
        },
      },
    ],
    [
      "/v1/videos/generations",
      "veo-3.1-fast",
      {
        model: "veo-3.1-fast",
        input: {
          prompt: "A cat walking in a garden",
          duration: 8,
          resolution: "1080p",
          aspect_ratio: "9:16",
          generate_audio: true,
          image_url: "https://example.com/first-frame.png",
          negative_prompt: "blurry",
        },
        callback_url: "https://client.example/hooks/ripen",
      },
    ],
  ];
  it.each(creates)(
    "POST %s (%s): no 5xx, errors in the envelope, a row only when accepted",
    async (path, _model, body) => {
      const before = await taskCount();
      const run = await fuzz({
        method: "POST",
        path,
        headers: { authorization: `Bearer ${key}` },
        body,
      });
      expect(run.failures.slice(0, 20)).toEqual([]);
      expect(Math.max(...statusesBelow500(run))).toBeLessThan(500);
      // Each accepted create wrote its row and a rejected one wrote none.
      expect(await taskCount()).toBe(before + run.created.length);
      const rows = await stack.db.db
        .select({ n: count() })
        .from(tasks)
        .where(inArray(tasks.id, run.created.length ? run.created : ["none"]));
      expect(rows[0]!.n).toBe(run.created.length);
      // The mutations reach validation and beyond, not just the front door.
      expect(run.statuses[200]).toBeGreaterThan(0);
      expect(run.statuses[400]).toBeGreaterThan(CASES_PER_ENDPOINT / 2);
    },
    180_000,
  );

  it("GET /v1/tasks/:taskId/history: no 5xx, errors in the envelope", async () => {
    const run = await fuzz({
      method: "GET",
      path: `/v1/tasks/${taskId}/history`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(run.failures.slice(0, 20)).toEqual([]);
    expect(Math.max(...statusesBelow500(run))).toBeLessThan(500);
    expect(run.statuses[200]).toBeGreaterThan(0);
  }, 180_000);

  it("GET /v1/tasks/:taskId: no 5xx, errors in the envelope", async () => {
    const before = await taskCount();
    const run = await fuzz({
      method: "GET",
      path: `/v1/tasks/${taskId}`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(run.failures.slice(0, 20)).toEqual([]);
    expect(Math.max(...statusesBelow500(run))).toBeLessThan(500);
    expect(await taskCount()).toBe(before);
    expect(run.statuses[200]).toBeGreaterThan(0);
    expect(run.statuses[404]).toBeGreaterThan(CASES_PER_ENDPOINT / 4);
  }, 180_000);

  it("GET /v1/credits: no 5xx, errors in the envelope", async () => {
    const run = await fuzz({
      method: "GET",
      path: "/v1/credits",
      headers: { authorization: `Bearer ${key}` },
    });
    expect(run.failures.slice(0, 20)).toEqual([]);
    expect(Math.max(...statusesBelow500(run))).toBeLessThan(500);
    expect(run.statuses[200]).toBeGreaterThan(0);
  }, 180_000);

  it("leaves the ledger consistent", async () => {
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });
});
