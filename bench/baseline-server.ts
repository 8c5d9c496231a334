/**
 * The bench's yardstick: express 5 parsing a JSON body and answering a constant JSON, in its own
 * process, so Ripen's figures can be read as a share of what this machine serves at all.
 */
import express from "express";

const app = express();
app.disable("x-powered-by");
app.use(express.json());
const answer = { code: 200, msg: "success", data: { taskId: "task_baseline" } };
app.post("/{*path}", (_req, res) => {
  res.json(answer);
});
app.get("/healthz", (_req, res) => {
  res.json({ ok: true });
});
// The port comes as an argument: `node --import tsx bench/baseline-server.ts 3999`.
app.listen(Number(process.argv[2] ?? 0), "127.0.0.1");
