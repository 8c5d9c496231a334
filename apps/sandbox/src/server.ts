import type { SandboxEnv } from "@ripen/config";
import { listen } from "@ripen/infra";
import { declareProviders } from "@ripen/providers";
import { parseSandboxFaults } from "./faults";
import { createSandbox, type Sandbox, type SandboxOptions } from "./sandbox";

export interface StartedSandbox {
  sandbox: Sandbox;
  /** Base URL the sandbox listens on, e.g. http://127.0.0.1:3100. */
  url: string;
  close(): Promise<void>;
}

/** Creates a sandbox and listens on `port` (0 = any free port), host 127.0.0.1 unless given. */
export async function startSandbox(
  options: SandboxOptions & { port: number; host?: string },
): Promise<StartedSandbox> {
  const { port, host = "127.0.0.1", ...sandboxOptions } = options;
  const sandbox = createSandbox(sandboxOptions);
  const listening = await listen(sandbox.app, {
    port,
    host,
    name: "Sandbox",
    portVariable: "SANDBOX_PORT",
  });
  // As a provider's API would, it keeps its callers' idle connections longer than their own idle
  // timeout (the worker's agent: 30 s), so the caller closes them, not a 5 s default mid-use.
  listening.server.keepAliveTimeout = 65_000;
  listening.server.headersTimeout = 66_000;
  if (sandboxOptions.publicUrl === undefined) sandbox.setPublicUrl(listening.url);

  return {
    sandbox,
    url: listening.url,
    async close() {
      await sandbox.close();
      if (listening.server.listening) await listening.close();
    },
  };
}

/**
 * The sandbox's settings as the environment gives them (`sandboxEnv`): one simulator per
 * provider of the registry (`RIPEN_PROVIDERS`), faults from `SANDBOX_FAULTS`. Throws naming a
 * bad value.
 */
export function sandboxOptionsFromEnv(env: SandboxEnv): SandboxOptions & { port: number } {
  const providers = declareProviders(env.RIPEN_PROVIDERS);
  const faults = parseSandboxFaults(env.SANDBOX_FAULTS);
  for (const id of Object.keys(faults)) {
    if (!providers.some((p) => p.id === id)) {
      throw new Error(
        `SANDBOX_FAULTS: no provider '${id}' (known: ${providers.map((p) => p.id).join(", ")})`,
      );
    }
  }
  return {
    providers,
    faults,
    port: env.SANDBOX_PORT,
    publicUrl: env.SANDBOX_PUBLIC_URL,
    generationMs: env.SANDBOX_GENERATION_MS,
    failureRate: env.SANDBOX_FAILURE_RATE,
    callbackLossRate: env.SANDBOX_CALLBACK_LOSS_RATE,
    callbackDuplicateRate: env.SANDBOX_CALLBACK_DUPLICATE_RATE,
    initialCredits: env.SANDBOX_INITIAL_CREDITS,
  };
}
