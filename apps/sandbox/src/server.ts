import type { AddressInfo } from "node:net";
import type { SandboxEnv } from "@ripen/config";
import { createSandbox, type Sandbox, type SandboxOptions } from "./sandbox";

export interface StartedSandbox {
  sandbox: Sandbox;
  /** Base URL the sandbox listens on, e.g. http://127.0.0.1:3100. */
  url: string;
  close(): Promise<void>;
}

/** Unspecified addresses are not reachable as such; callers on this machine use loopback. */
function reachableHost(address: string): string {
  if (address === "0.0.0.0" || address === "::") return "127.0.0.1";
  return address.includes(":") ? `[${address}]` : address;
}

/** Creates a sandbox and listens on `port` (0 = any free port), host 127.0.0.1 unless given. */
export async function startSandbox(
  options: SandboxOptions & { port: number; host?: string },
): Promise<StartedSandbox> {
  const { port, host = "127.0.0.1", ...sandboxOptions } = options;
  const sandbox = createSandbox(sandboxOptions);
  const server = sandbox.app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${reachableHost(address.address)}:${address.port}`;
  if (sandboxOptions.publicUrl === undefined) sandbox.setPublicUrl(url);

  return {
    sandbox,
    url,
    async close() {
      await sandbox.close();
      if (!server.listening) return;
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

/** The sandbox's settings as the environment gives them (`sandboxEnv`). */
export function sandboxOptionsFromEnv(env: SandboxEnv): SandboxOptions & { port: number } {
  return {
    port: env.SANDBOX_PORT,
    publicUrl: env.SANDBOX_PUBLIC_URL,
    generationMs: env.SANDBOX_GENERATION_MS,
    failureRate: env.SANDBOX_FAILURE_RATE,
    callbackLossRate: env.SANDBOX_CALLBACK_LOSS_RATE,
    callbackDuplicateRate: env.SANDBOX_CALLBACK_DUPLICATE_RATE,
    initialCredits: env.SANDBOX_INITIAL_CREDITS,
  };
}
