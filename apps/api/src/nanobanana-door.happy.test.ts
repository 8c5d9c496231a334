import { createPlan, startSubscription } from "@ripen/core";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NanoBananaClient } from "./testing/nanobanana-doc-client";

// Document 001's request examples, sent as the document prints them (comments stripped), to a
// running Ripen: create, poll until the task ends, fetch the result, read the debit.

/** The document's "Request Body" examples, verbatim. */
const documentExamples = {
  imageGenerate: `{
  "prompt": "A sunset over mountains",
  "mode": "text",           // "text" | "image"
  "model": "nano-banana",   // optional
  "image_url": "https://...",  // required if mode=image
  "aspect_ratio": "16:9",   // "1:1" | "3:4" | "4:3" | "9:16" | "16:9"
  "resolution": "1K",       // "1K" | "2K" | "4K" (model dependent)
  "num_images": 1,           // 1-4
  "quality": "standard",    // "standard" | "hd"
  "output_format": "png"    // "png" | "jpeg"
}`,
  videoGenerate: `{
  "prompt": "A cat walking in a garden",
  "model_id": "veo-3.1-fast",
  "aspect_ratio": "16:9",
  "duration": 8,              // seconds
  "resolution": "720p",       // "720p" | "1080p"
  "image_url": "https://...", // optional reference image
  "generate_audio": true,     // enable audio generation
  "negative_prompt": "..."    // optional
}`,
  calculateCost: `{
  "type": "image",
  "mode": "text",
  "model": "nano-banana-pro",
  "num_images": 2,
  "resolution": "2K"
}`,
};

/** The example with its `// …` comments removed (none of its strings holds `//` but URLs'). */
const stripComments = (text: string) => text.replace(/\s+\/\/ [^\n]*$/gm, "");

const GRANTED = 500;
let stack: TestStack;
let apiKey: string;
let accountId: string;

beforeAll(async () => {
  stack = await startTestStack();
  ({ apiKey, accountId } = await stack.createAccount(GRANTED));
});
afterAll(() => stack?.close());

async function raw(method: string, path: string, body?: string, key = apiKey) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body,
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function poll(kind: "images" | "videos", taskId: string, ends: string[]) {
  for (let i = 0; i < 200; i++) {
    const { status, body } = await raw("GET", `/api/v1/${kind}/status?task_id=${taskId}`);
    expect(status).toBe(200);
    expect(body.success).toBe(true);
    if (ends.includes(body.data.status)) return body.data;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${taskId} did not end`);
}

async function credits() {
  const { status, body } = await raw("GET", "/api/v1/account/credits");
  expect(status).toBe(200);
  return body.data;
}

describe("the document's examples, byte for byte", () => {
  let spent = 0;

  it("stripping the comments leaves the JSON the document shows", () => {
    expect(JSON.parse(stripComments(documentExamples.imageGenerate))).toEqual({
      prompt: "A sunset over mountains",
      mode: "text",
      model: "nano-banana",
      image_url: "https://...",
      aspect_ratio: "16:9",
      resolution: "1K",
      num_images: 1,
      quality: "standard",
      output_format: "png",
    });
    expect(JSON.parse(stripComments(documentExamples.videoGenerate)).negative_prompt).toBe("...");
  });

  it("image generate → pending, 1 credit (nano-banana text), completed with a fetchable URL", async () => {
    const created = await raw(
      "POST",
      "/api/v1/images/generate",
      stripComments(documentExamples.imageGenerate),
    );
    expect(created).toEqual({
      status: 200,
      body: {
        success: true,
        data: {
          task_id: expect.stringMatching(/^task_/),
          status: "pending",
          credits_used: 1,
          credits_remaining: GRANTED - 1,
        },
      },
    });
    spent += 1;
    const done = await poll("images", created.body.data.task_id, ["completed", "failed"]);
    expect(done).toMatchObject({
      task_id: created.body.data.task_id,
      status: "completed",
      progress: 100,
      image_url: expect.stringMatching(/^http/),
      provider: expect.any(String),
    });
    expect(new Date(done.completed_at).toISOString()).toBe(done.completed_at);
    expect(done.image_urls).toBeUndefined();
    expect((await fetch(done.image_url)).status).toBe(200);
    expect(await credits()).toEqual({
      credits: GRANTED - spent,
      total_credits: GRANTED,
      subscription: null,
      is_vip: false,
    });
  });

  it("video generate → processing, 30 credits (VEO 3.1 Fast 720p 8 s with audio), succeeded", async () => {
    const created = await raw(
      "POST",
      "/api/v1/videos/generate",
      stripComments(documentExamples.videoGenerate),
    );
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      success: true,
      data: {
        task_id: expect.stringMatching(/^task_/),
        status: "processing",
        // The table's figure; the example's 15 is illustrative (see the dialect's prices.ts).
        credits_used: 30,
        credits_remaining: GRANTED - spent - 30,
        provider: "ripen",
      },
    });
    spent += 30;
    const taskId = created.body.data.task_id;
    const done = await poll("videos", taskId, ["succeeded", "failed"]);
    expect(done).toMatchObject({
      task_id: taskId,
      status: "succeeded",
      progress: 100,
      video_url: expect.stringMatching(/^http/),
    });
    expect(typeof done.completed_at).toBe("string");
    expect((await fetch(done.video_url)).status).toBe(200);
    expect((await credits()).credits).toBe(GRANTED - spent);
    // The example reached the upstream as sent: its reference image and its negative prompt.
    const row = await stack.db.pool.query("select input from tasks where id = $1", [taskId]);
    expect(row.rows[0].input).toMatchObject({
      image_url: "https://...",
      negative_prompt: "...",
      generate_audio: true,
    });
  });

  it("calculate-cost → the table's 12 (6 per image, no 2K surcharge, × 2)", async () => {
    const { status, body } = await raw(
      "POST",
      "/api/v1/account/calculate-cost",
      stripComments(documentExamples.calculateCost),
    );
    // The example answers 16, which the Image Models table (nano-banana-pro: 6, +14 only for
    // 4K) contradicts; the table is the price list, so 12.
    expect({ status, body }).toEqual({
      status: 200,
      body: { success: true, data: { type: "image", credits_needed: 12 } },
    });
    expect((await credits()).credits).toBe(GRANTED - spent);
  });

  it("models lists the document's image and video models, nano-banana the default", async () => {
    const { status, body } = await raw("GET", "/api/v1/models");
    expect(status).toBe(200);
    const images = body.data.image_models.map((m: { id: string }) => m.id);
    const videos = body.data.video_models.map((m: { id: string }) => m.id);
    expect(images).toEqual(["nano-banana", "nano-banana-pro", "nano-banana-2", "seedream4"]);
    expect(videos).toHaveLength(11);
    expect(body.data.image_models[0]).toMatchObject({
      id: "nano-banana",
      name: "Nano Banana",
      is_default: true,
    });
    expect(body.data.video_models[0]).toMatchObject({
      id: "veo-3.1-fast",
      name: "VEO 3.1 Fast",
      is_default: true,
    });
  });
});

describe("num_images", () => {
  // nano-banana-2 and seedream4 are "Subscription: Required" on this door: a plan granting
  // nothing, so the credits read below are the account's own.
  beforeAll(async () => {
    const plan = await createPlan(stack.db.db, { name: "door-tests", monthlyCredits: 0 });
    await startSubscription(stack.db.db, {
      accountId,
      plan: plan.id,
      months: 12,
      now: stack.clock.now(),
    });
  });

  it.each([
    ["nano-banana", {}, 3, 3],
    ["nano-banana-2", { resolution: "2K", quality: "hd" }, 2, (4 + 4 + 2) * 2],
    ["seedream4", { mode: "image", image_url: "https://example.com/in.png" }, 4, 16],
  ] as const)("%s × %i: one task, that many image URLs", async (model, extra, count, price) => {
    const before = (await credits()).credits;
    const created = await raw(
      "POST",
      "/api/v1/images/generate",
      JSON.stringify({ prompt: "a bowl of fruit", model, num_images: count, ...extra }),
    );
    expect(created.status).toBe(200);
    expect(created.body.data.credits_used).toBe(price);
    const done = await poll("images", created.body.data.task_id, ["completed", "failed"]);
    expect(done.status).toBe("completed");
    expect(done.image_urls).toHaveLength(count);
    expect(new Set(done.image_urls).size).toBe(count);
    expect(done.image_url).toBe(done.image_urls[0]);
    for (const url of done.image_urls) expect((await fetch(url)).status).toBe(200);
    expect((await credits()).credits).toBe(before - price);
    // Ripen asked the nanobanana upstream for that many images.
    const attempt = await stack.db.pool.query(
      "select a.provider from task_attempts a where a.task_id = $1",
      [created.body.data.task_id],
    );
    expect(attempt.rows.map((r) => r.provider)).toContain("nanobanana");
  });
});

describe("a client written from the document alone", () => {
  it("generates, polls, reads its credits and a cost, unchanged against Ripen", async () => {
    const { apiKey: key } = await stack.createAccount(200);
    const client = new NanoBananaClient(stack.apiUrl, key, 50);
    const cost = await client.calculateCost({
      type: "image",
      model: "nano-banana-pro",
      resolution: "4K",
      quality: "hd",
    });
    expect(cost).toEqual({ type: "image", credits_needed: 22 });
    const image = await client.generateImage({
      prompt: "A lighthouse at dawn",
      model: "nano-banana-pro",
      resolution: "4K",
      quality: "hd",
      aspect_ratio: "21:9",
    });
    expect(image.credits_used).toBe(cost.credits_needed);
    expect(image.credits_remaining).toBe(200 - 22);
    const imageDone = await client.waitForImage(image.task_id);
    expect(imageDone.status).toBe("completed");
    expect((await fetch(imageDone.image_url!)).status).toBe(200);

    const video = await client.generateVideo({ prompt: "waves", model_id: "kling-o3-std" });
    expect(video.status).toBe("processing");
    const videoDone = await client.waitForVideo(video.task_id);
    expect(videoDone.status).toBe("succeeded");
    expect((await fetch(videoDone.video_url!)).status).toBe(200);

    const account = await client.credits();
    expect(account).toMatchObject({ credits: 200 - 22 - video.credits_used, total_credits: 200 });
    expect((await client.models()).image_models.map((m) => m.id)).toContain("seedream4");
  });
});

describe("Ripen's additions", () => {
  it("an Idempotency-Key replays the first create and debits once", async () => {
    const before = (await credits()).credits;
    const send = () =>
      fetch(`${stack.apiUrl}/api/v1/images/generate`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${apiKey}`,
          "content-type": "application/json",
          "idempotency-key": "nb-door-idempotent-1",
        },
        body: JSON.stringify({ prompt: "once", model: "seedream4" }),
      }).then((r) => r.json() as Promise<any>);
    const first = await send();
    const second = await send();
    expect(second.data.task_id).toBe(first.data.task_id);
    expect(second.data.credits_used).toBe(4);
    expect((await credits()).credits).toBe(before - 4);
  });

  it("a task made through another door reads here in the document's words", async () => {
    const native = await stack.request("POST", "/v1/images/generations", {
      key: apiKey,
      body: { model: "nano-banana-2", input: { prompt: "from the native door" } },
    });
    const taskId = native.body.data.taskId;
    const done = await poll("images", taskId, ["completed", "failed"]);
    expect(done).toMatchObject({ task_id: taskId, status: "completed", progress: 100 });
    // Read at the other kind's endpoint, it is not a task of that kind.
    const wrongKind = await raw("GET", `/api/v1/videos/status?task_id=${taskId}`);
    expect(wrongKind.status).toBe(404);
    expect(wrongKind.body.error.code).toBe("TASK_NOT_FOUND");
  });
});
