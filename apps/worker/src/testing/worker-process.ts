import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ProviderDeclaration } from "@ripen/providers";
import { TEST_CALLBACK_SECRET, type TestStack } from "@ripen/testkit";

const fixture = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "worker-process.fixture.ts",
);

/**
 * Starts a worker of `stack` in its own process (same database, Redis prefix, sandbox and
 * callback receiver). Resolves once it prints "ready", unless `waitReady` is false.
 */
export async function spawnWorker(
  stack: TestStack,
  options: {
    providers?: readonly ProviderDeclaration[];
    waitReady?: boolean;
    /** Keep the worker's production lock and stalled-job settings (default: a 1 s lock). */
    defaultLocks?: boolean;
  } = {},
): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture], {
    env: {
      ...process.env,
      DATABASE_URL: stack.db.url,
      REDIS_URL: stack.redisUrl,
      QUEUE_PREFIX: stack.prefix,
      SANDBOX_URL: stack.sandboxUrl,
      CALLBACKS_URL: stack.callbacksUrl,
      CALLBACK_SECRET: TEST_CALLBACK_SECRET,
      ...(options.providers ? { TEST_PROVIDERS: JSON.stringify(options.providers) } : {}),
      ...(options.defaultLocks ? { WORKER_DEFAULT_LOCKS: "1" } : {}),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (options.waitReady !== false) {
    let output = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("ready")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`worker exited (${code}) before ready`)));
    });
  }
  child.stdout!.resume();
  return child;
}

/** Kills a worker process and waits for it to be gone. */
export async function killWorker(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}
