import type { ProviderRegistry } from "@ripen/core";
import { createAivideoapiAdapter } from "@ripen/dialect-aivideoapi";

export interface ProviderSettings {
  AIVIDEOAPI_BASE_URL?: string;
  AIVIDEOAPI_API_KEY?: string;
}

/** Where the sandbox serves each dialect, relative to its base URL. */
export const sandboxPaths = { aivideoapi: "/aivideoapi" } as const;
const SANDBOX_API_KEY = "sk-ripen-sandbox";

/** The real aivideoapi is used only when both its URL and its key are configured. */
export function usesRealAivideoapi(
  env: ProviderSettings,
): env is Required<Pick<ProviderSettings, "AIVIDEOAPI_BASE_URL" | "AIVIDEOAPI_API_KEY">> {
  return Boolean(env.AIVIDEOAPI_BASE_URL && env.AIVIDEOAPI_API_KEY);
}

/**
 * Each provider goes to its real base URL when both URL and key are configured, else to the
 * sandbox at `sandboxUrl`.
 */
export function buildProviders(
  env: ProviderSettings,
  sandboxUrl: string,
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): ProviderRegistry {
  const sandbox = sandboxUrl.replace(/\/+$/, "");
  const real = usesRealAivideoapi(env);
  return {
    aivideoapi: createAivideoapiAdapter({
      baseUrl: real ? env.AIVIDEOAPI_BASE_URL : `${sandbox}${sandboxPaths.aivideoapi}`,
      apiKey: real ? env.AIVIDEOAPI_API_KEY : SANDBOX_API_KEY,
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
    }),
  };
}
