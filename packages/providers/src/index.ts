import { declarationsOrExit } from "./env";
import { declareProviders } from "./registry";

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

export {
  createProviderHealth,
  defaultHealthPolicy,
  type HealthPolicy,
  type ProviderHealth,
  type ProviderState,
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
  waitFor,
} from "./routing";
