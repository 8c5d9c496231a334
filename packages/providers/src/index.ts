import { loadEnvOrExit } from "@ripen/config";
import type { z } from "zod";
import { declarationsOrExit, providerEnvChecks, providerEnvShape } from "./env";
import { declareProviders, type ProviderDeclaration } from "./registry";

export {
  buildProviders,
  dialects,
  type Provider,
  type Providers,
} from "./build";
export { callsRealUpstream, providerEnvChecks, providerEnvShape } from "./env";

/** The registry this process's environment declares; a bad `RIPEN_PROVIDERS` exits. */
export const providerDeclarationsOrExit = (source: Record<string, string | undefined>) =>
  declarationsOrExit(source, declareProviders);

/**
 * A service's environment with its providers' variables, for an entry point: the registry
 * `RIPEN_PROVIDERS` declares, then `schema` extended with each provider's `{ID}_BASE_URL` and
 * `{ID}_API_KEY` and their checks. Any bad value prints and exits.
 */
export function loadEnvWithProvidersOrExit<S extends z.ZodObject>(
  schema: S,
  source: Record<string, string | undefined> = process.env,
): { env: z.infer<S>; declarations: ProviderDeclaration[] } {
  const declarations = providerDeclarationsOrExit(source);
  const env = loadEnvOrExit(
    schema.extend(providerEnvShape(declarations)) as unknown as S,
    source,
    providerEnvChecks(declarations),
  );
  return { env, declarations };
}

export {
  type AdmissionControl,
  type AdmissionDecision,
  admitBatch,
  admitBatchItems,
  type BatchAdmission,
  type BatchItemToAdmit,
  backlogLeaver,
  type CapacityRefusal,
  capacityRefusal,
  createAdmissionControl,
  estimateStart,
  type QueueBacklog,
  queueWaitMs,
  restoreProviderUse,
  START_BY_SHARE,
} from "./capacity";
export {
  createGenerationTimes,
  GENERATION_SAMPLES,
  type GenerationSample,
  type GenerationTimes,
} from "./generation-times";
export {
  type CircuitState,
  circuitOf,
  createProviderHealth,
  defaultHealthPolicy,
  type FailureOf,
  type HealthPolicy,
  type ProviderHealth,
  type ProviderLoad,
  type ProviderState,
  type StartingTask,
  type TaskRequest,
} from "./health";
export {
  declareProviders,
  defaultProviders,
  envPrefixOf,
  type ProviderDeclaration,
  type ProviderLimits,
  providerVariables,
  sandboxMountOf,
} from "./registry";
export {
  candidateRoutes,
  type PastAttempt,
  type RankedRoutes,
  type RouteChoice,
  rankRoutes,
  routeIn,
  waitFor,
} from "./routing";
