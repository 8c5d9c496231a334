import { type CrossCheck, httpUrl, isLoopback, isSet, type Source } from "@ripen/config";
import { z } from "zod";
import { type ProviderDeclaration, providerVariables } from "./registry";

/**
 * Each provider's variables, derived from the registry: `{ID}_BASE_URL` and `{ID}_API_KEY`.
 * Unset, the provider is its sandbox simulator; set both to call the real upstream.
 */
export function providerEnvShape(
  declarations: readonly ProviderDeclaration[],
): Record<never, never> {
  // Typed empty: the names are only known at run time, and an index signature would widen
  // every other variable of the schema it extends. Read them from the source, not the result.
  const shape: Record<string, z.ZodOptional<z.ZodType<string>>> = {};
  for (const { id } of declarations) {
    const names = providerVariables(id);
    shape[names.baseUrl] = httpUrl.optional();
    shape[names.apiKey] = z.string().min(1).optional();
  }
  return shape;
}

/** Whether a provider is configured to call its real upstream. */
export const callsRealUpstream = (id: string, source: Source) => {
  const names = providerVariables(id);
  return isSet(names.baseUrl, source) && isSet(names.apiKey, source);
};

/**
 * Checks across the providers' variables: half a provider's configuration (which used to fall
 * back to the sandbox without a word) and, in production with a real provider, a callback URL
 * the provider can reach.
 */
export function providerEnvChecks(declarations: readonly ProviderDeclaration[]): CrossCheck[] {
  const pairs = declarations.map(({ id }): CrossCheck => {
    const names = providerVariables(id);
    return {
      reads: [names.baseUrl, names.apiKey],
      check: (_env, source) => {
        const pair = [names.baseUrl, names.apiKey];
        const missing = pair.filter((name) => !isSet(name, source));
        if (missing.length !== 1) return [];
        const other = pair.find((name) => name !== missing[0]);
        return [
          {
            variable: missing[0]!,
            message: `must be set together with ${other} (both to call the real ${id}, neither for the sandbox)`,
          },
        ];
      },
    };
  });
  const publicCallback: CrossCheck = {
    reads: ["NODE_ENV", "PUBLIC_CALLBACK_URL"],
    check: (env, source) => {
      const real = declarations.filter(({ id }) => callsRealUpstream(id, source));
      if (env.NODE_ENV !== "production" || real.length === 0) return [];
      if (!isSet("PUBLIC_CALLBACK_URL", source)) {
        return [
          {
            variable: "PUBLIC_CALLBACK_URL",
            message: `must be set in production when a real provider is configured (${real
              .map((p) => p.id)
              .join(", ")}): it is where providers post results`,
          },
        ];
      }
      const url = env.PUBLIC_CALLBACK_URL as string;
      return isLoopback(url)
        ? [
            {
              variable: "PUBLIC_CALLBACK_URL",
              message: `must be an address the providers can reach, not loopback (got ${url})`,
            },
          ]
        : [];
    },
  };
  return [...pairs, publicCallback];
}

/**
 * The registry as this process's environment declares it; a bad `RIPEN_PROVIDERS` prints its
 * problem and exits, as a bad variable does.
 */
export function declarationsOrExit(
  source: Source,
  declare: (json: string | undefined) => ProviderDeclaration[],
): ProviderDeclaration[] {
  try {
    return declare(source.RIPEN_PROVIDERS || undefined);
  } catch (error) {
    console.error(`Invalid configuration:\n  ${(error as Error).message}`);
    process.exit(1);
  }
}
