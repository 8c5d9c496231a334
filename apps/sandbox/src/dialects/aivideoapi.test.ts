import {
  createAivideoapiClient,
  createTaskResponse,
  creditsResponse,
  errorEnvelope,
  taskResponse,
} from "@ripen/dialect-aivideoapi";
import { afterEach, describe, expect, it } from "vitest";
import { catchCallbacks, sandboxForTests } from "../testing/harness";

/**
 * Contract tests of the aivideoapi simulator (documents 000 and 002) over real HTTP: every
 * request example of the two documents answered in the documented shape, the task read back
 * through each documented state, and the callback identical to the query answer.
 */
const GENERATION_MS = 10_000;
let clockMs = 1_775_383_908_000;
const callbacks = catchCallbacks();
const aivideoapi = sandboxForTests("aivideoapi", {
  now: () => clockMs,
  generationMs: GENERATION_MS,
  initialCredits: 1_000_000,
  fetch: callbacks.fetch,
});
afterEach(() => {
  callbacks.clear();
  clockMs += GENERATION_MS * 2;
});

const KEY = "sk-your-api-key";
const authorization = { authorization: `Bearer ${KEY}` };

/** The documents' request examples, body for body. */
const examples: Record<string, unknown> = {
  "000 create task": {
    model: "nano-banana-2",
    input: {
      prompt: "A cute cat wearing sunglasses sitting on a beach, digital art style",
      resolution: "1K",
      aspect_ratio: "16:9",
      output_format: "png",
    },
  },
  "000 text-to-image": {
    model: "nano-banana-2",
    input: {
      prompt:
        "A futuristic cityscape at sunset, neon lights reflecting on wet streets, cyberpunk style",
      resolution: "2K",
      aspect_ratio: "21:9",
      output_format: "png",
    },
  },
  "000 image editing": {
    model: "nano-banana-2",
    input: {
      prompt: "Transform this photo into a watercolor painting style",
      image_urls: ["https://example.com/photo.jpg"],
      resolution: "4K",
    },
  },
  "000 text rendering": {
    model: "nano-banana-2",
    input: {
      prompt:
        "A birthday card with the text 'Happy Birthday Sarah!' in elegant cursive font, floral border",
      resolution: "2K",
      aspect_ratio: "3:2",
      output_format: "png",
    },
  },
  "002 create task": {
    model: "nano-banana-2-lite",
    callback_url: "https://your-server.com/webhook",
    input: {
      prompt: "A polished comic-style launch scene in a bright creative workspace",
      aspect_ratio: "16:9",
    },
  },
  "002 image editing": {
    model: "nano-banana-2-lite",
    input: {
      prompt: "Transform this product photo into a clean studio advertisement",
      image_urls: ["https://example.com/product.png"],
      aspect_ratio: "4:5",
    },
  },
};

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${aivideoapi.apiUrl}${path}`, {
    method,
    headers: { ...authorization, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe("the documents' request examples", () => {
  for (const [name, example] of Object.entries(examples)) {
    it(`${name}: created, then pending → processing → completed, in the documented shapes`, async () => {
      const created = await call("POST", "/v1/images/generations", example);
      expect(created.status).toBe(200);
      expect(createTaskResponse.strict().parse(created.body)).toMatchObject({
        code: 200,
        msg: "success",
      });
      const taskId = created.body.data.taskId as string;
      const read = async () => {
        const answer = await call("GET", `/v1/tasks/${taskId}`);
        expect(answer.status).toBe(200);
        return taskResponse.parse(answer.body);
      };
      expect((await read()).status).toBe("pending");
      clockMs += GENERATION_MS / 2;
      expect((await read()).status).toBe("processing");
      clockMs += GENERATION_MS;
      const done = await read();
      const model = (example as { model: string }).model;
      expect(Object.keys(done).sort()).toEqual(
        ["completed_at", "created_at", "id", "model", "output", "status"].sort(),
      );
      expect(done).toMatchObject({ id: taskId, status: "completed", model });
      expect(Object.keys(done.output!.metadata).sort()).toEqual(["costTime", "model"]);
      const file = await fetch(done.output!.urls[0]!);
      expect(file.status).toBe(200);
      const format = (example as { input: { output_format?: string } }).input.output_format;
      expect(file.headers.get("content-type")).toBe(format === "png" ? "image/png" : "image/jpeg");
    });
  }

  it("posts the query answer to callback_url when the task ends (document 002)", async () => {
    // The callback leaves on a timer when generation ends: a short one here.
    aivideoapi.setFaults({ generationMs: 20 });
    const created = await call("POST", "/v1/images/generations", examples["002 create task"]);
    const taskId = (created.body as { data: { taskId: string } }).data.taskId;
    await callbacks.arrived(1);
    const [callback] = callbacks.list;
    expect(callback!.url).toBe("https://your-server.com/webhook");
    clockMs += GENERATION_MS;
    const answer = await call("GET", `/v1/tasks/${taskId}`);
    expect(answer.body).toMatchObject({ status: "completed" });
    expect(callback!.body).toEqual(answer.body);
  });

  it("answers GET /v1/credits and the error reference's envelope", async () => {
    const credits = await call("GET", "/v1/credits");
    expect(creditsResponse.parse(credits.body).code).toBe(200);
    const missing = await call("POST", "/v1/images/generations", { input: { prompt: "x" } });
    expect(missing.status).toBe(400);
    expect(errorEnvelope.parse(missing.body).error).toEqual({
      code: "invalid_request",
      message: "'model' is required.",
      type: "invalid_request_error",
    });
    const unknown = await call("GET", "/v1/tasks/397ce9f2-c04e-4244-ac33-3af19a7cc297");
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: "task_not_found" } } });
  });

  it("is driven end to end by Ripen's client", async () => {
    const client = createAivideoapiClient({ baseUrl: aivideoapi.apiUrl, apiKey: KEY });
    const { providerTaskId } = await client.submit({
      taskId: "task_test",
      upstreamModel: "nano-banana-2-lite",
      input: { prompt: "a lighthouse", aspect_ratio: "1:1" },
      callbackUrl: null,
    });
    expect(await client.status(providerTaskId, "nano-banana-2-lite")).toEqual({ state: "pending" });
    clockMs += GENERATION_MS;
    expect(await client.status(providerTaskId, "nano-banana-2-lite")).toMatchObject({
      state: "succeeded",
      output: { urls: [expect.stringMatching(/\/files\/[0-9a-f-]{36}\.jpg$/)] },
    });
  });
});
