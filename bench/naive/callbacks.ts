/**
 * The naive pipeline's callback receiver: `POST /callbacks/:taskId` with the upstream's task
 * body ends the task and settles its hold in one transaction (a success spends the price, a
 * failure gives it back). A callback for a task already ended changes nothing.
 */
import express from "express";
import pg from "pg";
import { required } from "./env";

const pool = new pg.Pool({ connectionString: required("DATABASE_URL"), max: 20 });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const app = express();
app.disable("x-powered-by");
app.use(express.json());

app.post("/callbacks/:taskId", async (req, res) => {
  const { taskId } = req.params;
  const status = req.body?.status;
  if (!UUID.test(taskId)) {
    res.status(404).json({ error: "no such task" });
    return;
  }
  if (status !== "completed" && status !== "failed") {
    // Not an ending (the aivideoapi dialect only calls back at the end, but a plain receiver
    // should not end a task on anything else).
    res.json({ ok: true });
    return;
  }
  const succeeded = status === "completed";
  const client = await pool.connect();
  try {
    await client.query("begin");
    const ended = await client.query<{ account_id: string; price: number }>(
      `update tasks set status = $2, result_url = $3, completed_at = now()
       where id = $1 and status = 'queued' returning account_id, price`,
      [taskId, succeeded ? "succeeded" : "failed", req.body?.output?.urls?.[0] ?? null],
    );
    const task = ended.rows[0];
    if (task) {
      await client.query(
        succeeded
          ? "update accounts set held = held - $2, balance = balance - $2 where id = $1"
          : "update accounts set held = held - $2 where id = $1",
        [task.account_id, task.price],
      );
    }
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
  res.json({ ok: true });
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
  await pool.end();
  process.exit(0);
});
