import { loadEnvOrExit, sandboxEnv } from "@ripen/config";
import { sandboxMountOf } from "@ripen/providers";
import { sandboxOptionsFromEnv, startSandbox } from "./server";

const env = loadEnvOrExit(sandboxEnv);
let options: ReturnType<typeof sandboxOptionsFromEnv>;
try {
  options = sandboxOptionsFromEnv(env);
} catch (error) {
  console.error(`Invalid configuration:\n  ${(error as Error).message}`);
  process.exit(1);
}
const started = await startSandbox({ ...options, host: env.SANDBOX_HOST });
const mounts = (options.providers ?? []).map(
  (p) => `${p.id} at ${started.url}${sandboxMountOf(p.id)}`,
);
console.log(`sandbox listening on ${started.url} (${mounts.join(", ")})`);

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
