import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAivideoapiDocClient } from "./testing/aivideoapi-doc-client";

// The native door is the aivideoapi dialect (documents 000 and 002): each of their curl request
// examples, byte for byte, against a running Ripen, and a client written from those documents.

/** The documents' `-d '…'` bodies, exactly as printed, and what each costs there. */
const examples: { name: string; body: string; credits: number }[] = [
  {
    name: "000 create task (1K)",
    body: '{\n    "model": "nano-banana-2",\n    "input": {\n      "prompt": "A cute cat wearing sunglasses sitting on a beach, digital art style",\n      "resolution": "1K",\n      "aspect_ratio": "16:9",\n      "output_format": "png"\n    }\n  }',
    credits: 16,
  },
  {
    name: "000 text-to-image (2K)",
    body: '{\n    "model": "nano-banana-2",\n    "input": {\n      "prompt": "A futuristic cityscape at sunset, neon lights reflecting on wet streets, cyberpunk style",\n      "resolution": "2K",\n      "aspect_ratio": "21:9",\n      "output_format": "png"\n    }\n  }',
    credits: 24,
  },
  {
    name: "000 image editing (4K)",
    body: '{\n    "model": "nano-banana-2",\n    "input": {\n      "prompt": "Transform this photo into a watercolor painting style",\n      "image_urls": [\n        "https://example.com/photo.jpg"\n      ],\n      "resolution": "4K"\n    }\n  }',
    credits: 36,
  },
  {
    name: "000 text rendering (2K)",
    body: '{\n    "model": "nano-banana-2",\n    "input": {\n      "prompt": "A birthday card with the text \'Happy Birthday Sarah!\' in elegant cursive font, floral border",\n      "resolution": "2K",\n      "aspect_ratio": "3:2",\n      "output_format": "png"\n    }\n  }',
    credits: 24,
  },
  {
    name: "002 create task with callback_url",
    body: '{\n    "model": "nano-banana-2-lite",\n    "callback_url": "https://your-server.com/webhook",\n    "input": {\n      "prompt": "A polished comic-style launch scene in a bright creative workspace",\n      "aspect_ratio": "16:9"\n    }\n  }',
    credits: 10,
  },
  {
    name: "002 image editing",
    body: '{\n    "model": "nano-banana-2-lite",\n    "input": {\n      "prompt": "Transform this product photo into a clean studio advertisement",\n      "image_urls": [\n        "https://example.com/product.png"\n      ],\n      "aspect_ratio": "4:5"\n    }\n  }',
    credits: 10,
  },
];

let stack: TestStack;
const delivered: { url: string; body: string }[] = [];

// 002's example names https://your-server.com/webhook: the worker's callback fetch records it
// instead, so the callback is checked and nothing leaves the machine.
beforeAll(async () => {
  stack = await startTestStack({
    workerOptions: {
      deliveries: {
        fetch: async (url, init) => {
          delivered.push({ url, body: String(init.body) });
          return new Response("ok");
        },
      },
    },
  });
});
afterAll(() => stack?.close());

describe("documents 000 and 002's request examples, byte for byte", () => {
  it.each(examples)(
    "$name: completes, its image is served, its price is the document's",
    async (example) => {
      const { apiKey } = await stack.createAccount(100);
      const client = createAivideoapiDocClient({
        baseUrl: stack.apiUrl,
        apiKey,
        pollIntervalMs: 20,
      });
      const response = await fetch(`${stack.apiUrl}/v1/images/generations`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: new TextEncoder().encode(example.body),
      });
      const created = (await response.json()) as { data: { taskId: string } };
      expect(response.status).toBe(200);
      expect(created).toEqual({ code: 200, msg: "success", data: { taskId: expect.any(String) } });
      const task = await client.waitFor(created.data.taskId);
      expect(task.status).toBe("completed");
      expect(task.model).toBe(JSON.parse(example.body).model);
      const image = await fetch(task.output!.urls[0]!);
      expect(image.status).toBe(200);
      expect(image.headers.get("content-type")).toMatch(/^image\//);
      expect(await client.credits()).toBe(100 - example.credits);
    },
  );

  it("002's callback_url receives the query answer of the task it created", async () => {
    const example = examples.find((e) => e.body.includes("callback_url"))!;
    const callbacks = delivered.filter((d) => d.url === "https://your-server.com/webhook");
    expect(callbacks).toHaveLength(1);
    const body = JSON.parse(callbacks[0]!.body);
    expect(body.status).toBe("completed");
    expect(body.model).toBe(JSON.parse(example.body).model);
    const { apiKey } = await stack.createAccount(0);
    // Another account cannot read it; its own account reads exactly what was sent.
    const other = await fetch(`${stack.apiUrl}/v1/tasks/${body.id}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(other.status).toBe(404);
  });
});

describe("a client written from documents 000 and 002 only", () => {
  it("creates, polls, reads its result and its credits, unchanged against Ripen", async () => {
    const { apiKey } = await stack.createAccount(50);
    const client = createAivideoapiDocClient({ baseUrl: stack.apiUrl, apiKey, pollIntervalMs: 20 });
    const first = await client.generate({
      model: "nano-banana-2",
      input: { prompt: "a lighthouse at dawn", resolution: "2K" },
    });
    const second = await client.generate({
      model: "nano-banana-2-lite",
      input: { prompt: "a lighthouse at dusk" },
    });
    const [a, b] = await Promise.all([client.waitFor(first), client.waitFor(second)]);
    expect([a.status, b.status]).toEqual(["completed", "completed"]);
    expect(a.output!.urls).toHaveLength(1);
    expect(b.output!.urls).toHaveLength(1);
    expect(await client.credits()).toBe(50 - 24 - 10);
    // 402 as the document says when the balance is too low: 16 needed, 16 left is enough, 0 is not.
    await client.generate({ model: "nano-banana-2", input: { prompt: "one more" } });
    await expect(
      client.generate({ model: "nano-banana-2", input: { prompt: "and another" } }),
    ).rejects.toThrow(/^402 insufficient_credits/);
  });
});
