import { loadEnv, sandboxEnv } from "@ripen/config";
import { startSandbox } from "./server";

const env = loadEnv(sandboxEnv);
const started = await startSandbox({
  port: env.SANDBOX_PORT,
  host: env.SANDBOX_HOST,
  publicUrl: env.SANDBOX_PUBLIC_URL,
  generationMs: env.SANDBOX_GENERATION_MS,
  failureRate: env.SANDBOX_FAILURE_RATE,
  callbackLossRate: env.SANDBOX_CALLBACK_LOSS_RATE,
  callbackDuplicateRate: env.SANDBOX_CALLBACK_DUPLICATE_RATE,
  initialCredits: env.SANDBOX_INITIAL_CREDITS,
});
console.log(`sandbox listening on ${started.url} (aivideoapi at ${started.url}/aivideoapi)`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`sandbox: ${signal} received, shutting down`);
  await started.close();
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    shutdown(signal).catch((error: unknown) => {
      console.error("sandbox: shutdown failed", error);
      process.exitCode = 1;
    });
  });
}
