/**
 * The naive pipeline's API: `POST /v1/images/generations` holds the price on the account and
 * inserts the task in one transaction, then adds a BullMQ job. Written the way a first version
 * usually is, as the bench's second baseline; it shares nothing with Ripen.
 */
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import express from "express";
import { Redis } from "ioredis";
import pg from "pg";
import { required } from "./env";
import { NAIVE_PRICE, NAIVE_QUEUE } from "./schema";

const pool = new pg.Pool({ connectionString: required("DATABASE_URL"), max: 20 });
const connection = new Redis(required("REDIS_URL"), { maxRetriesPerRequest: null });
const queue = new Queue(NAIVE_QUEUE, {
  connection,
  prefix: required("QUEUE_PREFIX"),
  defaultJobOptions: {
    attempts: 3,
    backoff: { type: "exponential", delay: 1_000 },
    removeOnComplete: true,
    removeOnFail: 1_000,
  },
});

const app = express();
app.disable("x-powered-by");
app.use(express.json());

app.post("/v1/images/generations", async (req, res) => {
  const key = /^Bearer (.+)$/.exec(req.get("authorization") ?? "")?.[1];
  const prompt = req.body?.input?.prompt;
  if (!key) {
    res.status(401).json({ error: "missing API key" });
    return;
  }
  if (req.body?.model !== "nano-banana-2" || typeof prompt !== "string") {
    res.status(400).json({ error: "model nano-banana-2 and input.prompt are required" });
    return;
  }
  const taskId = randomUUID();
  const client = await pool.connect();
  try {
    await client.query("begin");
    // The guard is in the statement, so two creates cannot both spend the last credits.
    const held = await client.query<{ id: string }>(
      "update accounts set held = held + $2 where api_key = $1 and balance - held >= $2 returning id",
      [key, NAIVE_PRICE],
    );
    const accountId = held.rows[0]?.id;
    if (!accountId) {
      await client.query("rollback");
      res.status(402).json({ error: "unknown API key or not enough credits" });
      return;
    }
    await client.query("insert into tasks (id, account_id, price) values ($1, $2, $3)", [
      taskId,
      accountId,
      NAIVE_PRICE,
    ]);
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
  await queue.add("generate", { taskId, prompt }, { jobId: taskId });
  res.json({ code: 200, msg: "success", data: { taskId } });
});

app.get("/healthz", (_req, res) => {
  res.json({ ok: true });
});

// Logged, so a run that stalls shows why.
app.use(
  (error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    console.error(error.stack ?? error.message);
    res.status(500).json({ error: "internal error" });
  },
);

const server = app.listen(Number(required("PORT")), "127.0.0.1");
process.once("SIGTERM", async () => {
  server.close();
  await queue.close();
  await pool.end();
  process.exit(0);
});
