/**
 * The clients' callback endpoint: every signed delivery Ripen sends (task or batch), recorded by
 * the task or batch it names. It always answers 200, so a missing delivery is Ripen's.
 */
import { createServer } from "node:http";
import { onTeardown } from "../../bench/lib/teardown";

export interface CallbackReceiver {
  /** Base URL; a create's callback URL is `${url}/hook/<its key>`. */
  url: string;
  /** Deliveries received per task id (`X-Task-Id`). */
  tasks: Map<string, number>;
  /** Deliveries received per batch id (`X-Batch-Id`, batch.completed). */
  batches: Map<string, number>;
  total(): number;
}

export async function startReceiver(): Promise<CallbackReceiver> {
  const tasks = new Map<string, number>();
  const batches = new Map<string, number>();
  let total = 0;
  const count = (map: Map<string, number>, id: string) => map.set(id, (map.get(id) ?? 0) + 1);
  const server = createServer((req, res) => {
    // The body is read to the end so the connection can be kept alive; what it says is Ripen's
    // own read of the task, which the checks take from the database instead.
    req.resume();
    req.on("end", () => {
      total++;
      const batchId = req.headers["x-batch-id"];
      const taskId = req.headers["x-task-id"];
      if (typeof batchId === "string" && batchId) count(batches, batchId);
      else if (typeof taskId === "string" && taskId) count(tasks, taskId);
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTeardown("callback receiver", async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("receiver: no address");
  return { url: `http://127.0.0.1:${address.port}`, tasks, batches, total: () => total };
}
