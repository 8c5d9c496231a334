/**
 * The naive pipeline's worker: one job per task, which submits it upstream (the sandbox's
 * aivideoapi simulator over HTTP) with a callback URL naming the task, and is done. It does not
 * touch the database: the callback receiver ends the task.
 */
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { required } from "./env";
import { NAIVE_QUEUE } from "./schema";

const upstream = required("UPSTREAM_URL");
const upstreamKey = required("UPSTREAM_KEY");
const callbackBase = required("CALLBACK_BASE_URL");

const worker = new Worker<{ taskId: string; prompt: string }>(
  NAIVE_QUEUE,
  async (job) => {
    const { taskId, prompt } = job.data;
    const answer = await fetch(`${upstream}/v1/images/generations`, {
      method: "POST",
      headers: { authorization: `Bearer ${upstreamKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "nano-banana-2",
        input: { prompt },
        callback_url: `${callbackBase}/callbacks/${taskId}`,
      }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await answer.text();
    // A failed job is retried by BullMQ (attempts 3); the upstream saw the call either way.
    if (!answer.ok) throw new Error(`upstream answered ${answer.status}: ${text.slice(0, 200)}`);
  },
  {
    connection: new Redis(required("REDIS_URL"), { maxRetriesPerRequest: null }),
    prefix: required("QUEUE_PREFIX"),
    // The same as Ripen's worker by default, so neither has more requests in flight.
    concurrency: 50,
  },
);
worker.on("failed", (job, error) => console.error(`job ${job?.id} failed: ${error.message}`));
// The bench starts its load once this is printed, so no job waits for the worker to connect.
await worker.waitUntilReady();
console.log("naive worker ready");

process.once("SIGTERM", async () => {
  await worker.close();
  process.exit(0);
});
