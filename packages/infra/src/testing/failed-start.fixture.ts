/**
 * A service whose start fails after it registered a resource that never finishes closing (as a
 * worker's BullMQ workers, waiting on jobs stuck behind a Postgres that just went away).
 */
import { writeSync } from "node:fs";
import { runService } from "../process";

// Written at once, as pino's own flush at exit leaves nothing behind.
const print = (message: string) => writeSync(1, `${message}\n`);
const logger = {
  info: print,
  error: print,
  fatal: (_details: object, message: string) => print(message),
  flush: (callback?: (error?: Error) => void) => callback?.(),
};

await runService(
  "stuck",
  logger,
  async (resources) => {
    // Its open handle keeps the process alive, as a socket would.
    setInterval(() => {}, 1_000);
    resources.add("a resource that never closes", () => new Promise<void>(() => {}));
    throw new Error("Postgres went away");
  },
  { shutdownTimeoutMs: Number(process.env.SHUTDOWN_TIMEOUT_MS) },
);
