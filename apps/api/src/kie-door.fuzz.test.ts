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
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Fixed: a failure names its case index, and the same index reproduces it. */
const SEED = 0x4b1e_2026;
const CASES_PER_TARGET = 3_000;
const CONCURRENCY = 8;

let stack: TestStack;
let key: string;
let taskId: string;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

// Only the door is under test: the worker stays off, so accepted tasks just wait.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ apiKey: key } = await stack.createAccount(100_000_000));
  const created = await stack.request("POST", "/api/v1/jobs/createTask", {
    key,
    body: { model: "nano-banana-2", input: { prompt: "the recordInfo fuzzed against" } },
  });
  taskId = created.body.data.taskId;
});
afterAll(async () => {
  agent.destroy();
  await stack?.close();
});

const taskCount = async () => (await stack.db.db.select({ n: count() }).from(tasks))[0]!.n;

/**
 * What is wrong with an answer: a 5xx, a body that is not JSON, or (under the kie door's paths)
 * an error outside document 003's envelope with the code as the status. A mutated path may land
 * on another door, which answers in its own envelope.
 */
function problemWith(path: string, status: number, text: string): string | null {
  if (status >= 500) return `status ${status}`;
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return `status ${status} with a body that is not JSON: ${text.slice(0, 80)}`;
  }
  if (status < 400 || !path.startsWith("/api/v1/jobs/")) return null;
  const isEnvelope =
    Object.keys(body).sort().join() === "code,data,msg" &&
    body.code === status &&
    body.data === null &&
    typeof body.msg === "string" &&
    body.msg.length > 0;
  return isEnvelope ? null : `status ${status} outside the envelope: ${text.slice(0, 120)}`;
}

async function fuzz(target: FuzzTarget) {
  const run = { statuses: {} as Record<number, number>, failures: [] as string[], created: 0 };
  let next = 0;
  const worker = async () => {
    while (next < CASES_PER_TARGET) {
      const mutation = fuzzCase(target, SEED, next++);
      const { status, text } = await sendFuzzCase(stack.apiUrl, mutation, agent);
      run.statuses[status] = (run.statuses[status] ?? 0) + 1;
      const problem = problemWith(mutation.path, status, text);
      if (problem) run.failures.push(`#${mutation.index} ${mutation.label}: ${problem}`);
      else if (status === 200 && typeof JSON.parse(text).data?.taskId === "string") run.created++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return run;
}

describe(`${CASES_PER_TARGET} seeded mutations per target`, () => {
  const creates: [string, unknown][] = [
    [
      "document 003's example with callBackUrl",
      {
        model: "nano-banana-2-text-to-image",
        callBackUrl: "https://client.example/api/callback",
        input: {
          prompt: "A clean product photo of a futuristic yellow camera on a white desk",
          aspect_ratio: "auto",
          resolution: "1K",
          output_format: "png",
        },
      },
    ],
    [
      "nano-banana-2 as Kie's clients send it",
      {
        model: "nano-banana-2",
        callBackUrl: "https://client.example/api/callback",
        input: {
          prompt: "A banana spaceship",
          image_input: ["https://example.com/a.png", "https://example.com/b.png"],
          google_search: false,
          aspect_ratio: "16:9",
          resolution: "2K",
          output_format: "jpeg",
        },
      },
    ],
    [
      "google/nano-banana-edit",
      {
        model: "google/nano-banana-edit",
        input: {
          prompt: "turn this photo into a figure",
          image_urls: ["https://example.com/photo.png"],
          image_size: "1:1",
          output_format: "png",
        },
      },
    ],
  ];
  it.each(creates)(
    "POST /api/v1/jobs/createTask (%s): no 5xx, errors in the envelope, a row only when accepted",
    async (_name, body) => {
      const before = await taskCount();
      const run = await fuzz({
        method: "POST",
        path: "/api/v1/jobs/createTask",
        headers: { authorization: `Bearer ${key}` },
        body,
      });
      expect(run.failures.slice(0, 20)).toEqual([]);
      expect(await taskCount()).toBe(before + run.created);
      // The mutations reach validation and beyond, not only the body parser.
      expect(run.statuses[200]).toBeGreaterThan(0);
      expect(run.statuses[422]).toBeGreaterThan(CASES_PER_TARGET / 10);
    },
    180_000,
  );

  it("GET /api/v1/jobs/recordInfo: no 5xx, errors in the envelope", async () => {
    const before = await taskCount();
    const run = await fuzz({
      method: "GET",
      path: `/api/v1/jobs/recordInfo?taskId=${taskId}`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(run.failures.slice(0, 20)).toEqual([]);
    expect(await taskCount()).toBe(before);
    expect(run.statuses[200]).toBeGreaterThan(0);
  }, 180_000);

  it("leaves the ledger consistent", async () => {
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });
});
