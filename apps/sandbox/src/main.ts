import { loadEnvOrExit, sandboxEnv } from "@ripen/config";
import { sandboxPaths } from "@ripen/providers";
import { sandboxOptionsFromEnv, startSandbox } from "./server";

const env = loadEnvOrExit(sandboxEnv);
const started = await startSandbox({ ...sandboxOptionsFromEnv(env), host: env.SANDBOX_HOST });
console.log(
  `sandbox listening on ${started.url} (aivideoapi at ${started.url}${sandboxPaths.aivideoapi})`,
);

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
