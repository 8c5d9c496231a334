import { Agent } from "node:http";
import { tasks } from "@ripen/db";
import { models } from "@ripen/models";
import { fuzzCase, sendFuzzCase, startTestStack, type TestStack } from "@ripen/testkit";
import { inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doorPricing, pricedDoors } from "./doors/pricing";
import { inputJsonSchema } from "./routes/v1_models";

let stack: TestStack;
let key: string;

// No worker: what is compared is what the creates held.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ apiKey: key } = await stack.createAccount(1_000_000_000));
});
afterAll(() => stack?.close());

const cost = (body: unknown, query = "") =>
  stack.request("POST", `/v1/cost${query}`, { key, body });

async function heldPrices(taskIds: string[]): Promise<Map<string, number>> {
  const rows = await stack.db.db
    .select({ id: tasks.id, price: tasks.price })
    .from(tasks)
    .where(inArray(tasks.id, taskIds));
  return new Map(rows.map((r) => [r.id, r.price]));
}

/** A small seeded generator, so a failing combination is the same on every run. */
function rng(seed: number) {
  let state = seed >>> 0;
  return (n: number) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % n;
  };
}

type Property = { enum?: unknown[]; type?: string; minimum?: number; maximum?: number };

/**
 * Inputs of a model drawn from its own JSON Schema: the defaults, each allowed value of every
 * parameter one at a time, then seeded combinations of all of them.
 */
function inputsOf(modelId: string): Record<string, unknown>[] {
  const schema = inputJsonSchema(models[modelId]!);
  const properties = schema.properties as Record<string, Property>;
  const base: Record<string, unknown> = { prompt: "a lighthouse at dusk" };
  if ((schema.required as string[]).includes("image_urls")) {
    base.image_urls = ["https://example.com/a.png"];
  }
  const choices: [string, unknown[]][] = [];
  for (const [name, property] of Object.entries(properties)) {
    if (property.enum) choices.push([name, property.enum]);
    else if (property.type === "boolean") choices.push([name, [false, true]]);
    else if (property.type === "integer" && property.minimum !== undefined) {
      const values: number[] = [];
      for (let n = property.minimum; n <= (property.maximum ?? property.minimum); n++)
        values.push(n);
      choices.push([name, values]);
    }
  }
  const inputs = [base];
  for (const [name, values] of choices) {
    for (const value of values) inputs.push({ ...base, [name]: value });
  }
  const pick = rng(modelId.length * 7919);
  for (let i = 0; i < 8; i++) {
    const input = { ...base };
    for (const [name, values] of choices) input[name] = values[pick(values.length)];
    inputs.push(input);
  }
  return inputs;
}

describe("POST /v1/cost, a native create body", () => {
  it("answers what the matching create holds, for every model over its allowed values", async () => {
    const created: { taskId: string; quoted: number; label: string }[] = [];
    let refused = 0;
    for (const spec of Object.values(models)) {
      for (const input of inputsOf(spec.id)) {
        const body = { model: spec.id, input };
        const label = `${spec.id} ${JSON.stringify(input)}`;
        const quote = await cost(body);
        const create = await stack.request("POST", `/v1/${spec.kind}s/generations`, { key, body });
        // The quote refuses exactly what the create refuses, in the same words.
        expect(quote.status, label).toBe(create.status);
        if (create.status !== 200) {
          expect(quote.body.error, label).toEqual(create.body.error);
          refused++;
          continue;
        }
        expect(quote.body).toMatchObject({
          code: 200,
          msg: "success",
          data: { model: spec.id, kind: spec.kind, door: "native" },
        });
        created.push({ taskId: create.body.data.taskId, quoted: quote.body.data.credits, label });
      }
    }
    const held = await heldPrices(created.map((c) => c.taskId));
    for (const { taskId, quoted, label } of created) expect(held.get(taskId), label).toBe(quoted);
    // Most combinations are valid: the sweep compared real holds, not only refusals.
    expect(created.length).toBeGreaterThan(200);
    expect(refused).toBeLessThan(created.length);
  });

  it("shows the input with its defaults filled in", async () => {
    const quote = await cost({ model: "nano-banana-pro", input: { prompt: "a boat" } });
    expect(quote.body.data).toMatchObject({
      credits: 25,
      input: { resolution: "1K", num_images: 1, quality: "standard", aspect_ratio: "1:1" },
    });
  });

  it("refuses in the native envelope, naming the field", async () => {
    const unknownModel = await cost({ model: "dall-e-9", input: { prompt: "x" } });
    expect(unknownModel.status).toBe(404);
    expect(unknownModel.body.error.code).toBe("model_not_found");

    const badValue = await cost({
      model: "nano-banana-2",
      input: { prompt: "x", resolution: "8K" },
    });
    expect(badValue.status).toBe(400);
    expect(badValue.body.error).toMatchObject({
      code: "invalid_request",
      type: "invalid_request_error",
    });
    expect(badValue.body.error.message).toContain("input.resolution");

    const badTimeout = await cost({
      model: "nano-banana-2",
      input: { prompt: "x" },
      timeout_seconds: 5,
    });
    expect(badTimeout.status).toBe(400);
    expect(badTimeout.body.error.message).toContain("timeout_seconds");

    const badQuery = await cost({ model: "nano-banana-2", input: { prompt: "x" } }, "?door=dalle");
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error.message).toContain("'door'");

    const unknownParam = await cost({ model: "nano-banana-2", input: { prompt: "x" } }, "?x=1");
    expect(unknownParam.status).toBe(400);
    expect(unknownParam.body.error.message).toContain("'x'");

    const anonymous = await stack.request("POST", "/v1/cost", { body: { model: "nano-banana" } });
    expect(anonymous.status).toBe(401);
  });
});

describe("POST /v1/cost, a batch body", () => {
  const requests = [
    { model: "nano-banana-2", input: { prompt: "one", resolution: "4K" } },
    { model: "nano-banana-pro", input: { prompt: "two", num_images: 3, quality: "hd" } },
    { model: "veo-3.1-fast", input: { prompt: "three", duration: 8, generate_audio: true } },
    { model: "seedream4", input: { prompt: "four", num_images: 4 }, kind: "image" },
  ];

  it("totals what POST /v1/batches holds, item by item", async () => {
    const quote = await cost({ requests });
    expect(quote.status).toBe(200);
    const batch = await stack.request("POST", "/v1/batches", { key, body: { requests } });
    expect(batch.status).toBe(200);
    expect(quote.body.data.credits).toBe(batch.body.data.credits.total);
    expect(quote.body.data.items.map((i: { index: number }) => i.index)).toEqual([0, 1, 2, 3]);
    expect(quote.body.data.rejected).toEqual([]);
    const items = await stack.request("GET", `/v1/tasks?batch_id=${batch.body.data.id}`, { key });
    const held = await heldPrices(items.body.data.tasks.map((t: { id: string }) => t.id));
    expect([...held.values()].reduce((a, b) => a + b, 0)).toBe(quote.body.data.credits);
  });

  it("reports refused items as the batch does", async () => {
    const mixed = [
      ...requests,
      { model: "nano-banana-2", input: { prompt: "x", resolution: "9K" } },
    ];
    const whole = await cost({ requests: mixed });
    const wholeBatch = await stack.request("POST", "/v1/batches", {
      key,
      body: { requests: mixed },
    });
    expect(whole.status).toBe(400);
    expect(whole.body).toEqual(wholeBatch.body);

    const partial = await cost({ requests: mixed, partial: true });
    const partialBatch = await stack.request("POST", "/v1/batches", {
      key,
      body: { requests: mixed, partial: true },
    });
    expect(partial.status).toBe(200);
    expect(partial.body.data.rejected).toEqual(partialBatch.body.data.rejected);
    expect(partial.body.data.credits).toBe(partialBatch.body.data.credits.total);

    const badField = await cost({ requests, priority: 1 });
    expect(badField.status).toBe(400);
    expect(badField.body.error.message).toContain("'priority'");
  });
});

describe("POST /v1/cost?door=", () => {
  /** Each door's create, and its quote body (nanobanana quotes a calculate-cost body). */
  const doorCases = {
    nanobanana: {
      quote: { type: "image", model: "nano-banana", num_images: 2, quality: "hd" },
      create: async () => {
        const response = await fetch(`${stack.apiUrl}/api/v1/images/generate`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ prompt: "x", model: "nano-banana", num_images: 2, quality: "hd" }),
        });
        return ((await response.json()) as any).data.task_id as string;
      },
    },
    kie: {
      quote: { model: "nano-banana-2-text-to-image", input: { prompt: "x", resolution: "2K" } },
      create: async () => {
        const response = await stack.request("POST", "/api/v1/jobs/createTask", {
          key,
          body: { model: "nano-banana-2-text-to-image", input: { prompt: "x", resolution: "2K" } },
        });
        return response.body.data.taskId as string;
      },
    },
    revid: {
      quote: { model: "nano-banana-pro", input: { prompt: "x", resolution: "4K" } },
      create: async () => {
        const response = await fetch(`${stack.apiUrl}/paid/nano/banana/create`, {
          method: "POST",
          headers: { "x-api-key": key, "content-type": "application/json" },
          body: JSON.stringify({
            model: "nano-banana-pro",
            input: { prompt: "x", resolution: "4K" },
          }),
        });
        return ((await response.json()) as any).data.taskId as string;
      },
    },
  } as const;

  it.each(pricedDoors)("%s: the door's own price, what its create holds", async (door) => {
    const { quote, create } = doorCases[door];
    const response = await cost(quote, `?door=${door}`);
    expect(response.status).toBe(200);
    const { model, credits } = doorPricing[door].price(quote);
    expect(response.body).toMatchObject({
      code: 200,
      msg: "success",
      data: { model, credits, door },
    });
    const taskId = await create();
    expect((await heldPrices([taskId])).get(taskId)).toBe(credits);
  });

  it.each(pricedDoors)("%s: refusals in the native envelope", async (door) => {
    const unknownModel = await cost(
      door === "nanobanana"
        ? { type: "image", model: "dall-e-9" }
        : { model: "dall-e-9", input: {} },
      `?door=${door}`,
    );
    expect(unknownModel.status).toBe(404);
    expect(unknownModel.body.error.code).toBe("model_not_found");
    const notAnObject = await cost([1, 2], `?door=${door}`);
    expect(notAnObject.status).toBe(400);
    expect(notAnObject.body.error.code).toBe("invalid_request");
  });

  it.each(pricedDoors)("%s: fuzzed quote bodies never answer 5xx", async (door) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const failures: string[] = [];
    for (let index = 0; index < 300; index++) {
      const mutation = fuzzCase(
        {
          method: "POST",
          path: `/v1/cost?door=${door}`,
          body: doorCases[door].quote,
          headers: { authorization: `Bearer ${key}` },
        },
        0xd00,
        index,
      );
      const { status, text } = await sendFuzzCase(stack.apiUrl, mutation, agent);
      if (status >= 500)
        failures.push(`#${index} ${mutation.label}: ${status} ${text.slice(0, 200)}`);
    }
    agent.destroy();
    expect(failures).toEqual([]);
  });
});

describe("fuzzed", () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  afterAll(() => agent.destroy());

  it.each([
    ["a create body", { model: "nano-banana-pro", input: { prompt: "a", num_images: 2 } }],
    [
      "a batch body",
      { requests: [{ model: "nano-banana", input: { prompt: "a" } }], partial: true },
    ],
  ])("%s: no 5xx, every answer in the envelope", async (_name, body) => {
    const failures: string[] = [];
    for (let index = 0; index < 400; index++) {
      const mutation = fuzzCase(
        {
          method: "POST",
          path: "/v1/cost",
          body,
          headers: { authorization: `Bearer ${key}` },
        },
        0xc057,
        index,
      );
      const { status, text } = await sendFuzzCase(stack.apiUrl, mutation, agent);
      if (status >= 500)
        failures.push(`#${index} ${mutation.label}: ${status} ${text.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
  });
});
