import type { AnyModelSpec, FailureKind, Route } from "@ripen/core";
import type { Provider, Providers } from "./build";
import type { ProviderState } from "./health";

/** One way to serve a task: a provider, its route for the model, and the request in its terms. */
export interface RouteChoice {
  provider: Provider;
  route: Route<object>;
  /** The dialect's input for this task. */
  input: Record<string, unknown>;
  /** What the provider charges for it, in its credits (0 where its document gives no figure). */
  upstreamCost: number;
  /** The same in millionths of a dollar, to compare providers and report margins. */
  upstreamCostMicros: number;
}

/** The model's route in `dialect` that can carry this input, and the input in its terms. */
export function routeIn(
  spec: AnyModelSpec,
  input: object,
  dialect: string,
): { route: Route<object>; wire: Record<string, unknown> } | undefined {
  for (const route of spec.routes as readonly Route<object>[]) {
    if (route.dialect !== dialect) continue;
    const wire = route.translate(input);
    if (wire) return { route, wire };
  }
  return undefined;
}

/** Every provider that can serve this input of the model, in declaration order. */
export function candidateRoutes(
  spec: AnyModelSpec,
  input: object,
  providers: Providers,
): RouteChoice[] {
  const choices: RouteChoice[] = [];
  for (const provider of providers.list) {
    const served = routeIn(spec, input, provider.dialect);
    if (!served) continue;
    const upstreamCost = provider.documentedCost(served.route.upstreamModel, served.wire) ?? 0;
    choices.push({
      provider,
      route: served.route,
      input: served.wire,
      upstreamCost,
      upstreamCostMicros: Math.round(upstreamCost * provider.creditUsd * 1_000_000),
    });
  }
  return choices;
}

/** What a task's earlier attempts say about a provider. */
export interface PastAttempt {
  provider: string;
  /** How the attempt failed, if it did. */
  failureKind: FailureKind | null;
  state: string;
}

/** Failed generations after which this task does not go back to that provider. */
const GENERATION_FAILURES_PER_PROVIDER = 2;

/** Kinds after which this task does not go back to that provider. */
const EXCLUDING: readonly FailureKind[] = ["failover", "circuit"];

export interface RankedRoutes {
  /** Best first: usable now, then by priority, then by upstream cost. */
  ranked: RouteChoice[];
  /** Providers left out for this task, and why. */
  excluded: { provider: string; reason: string }[];
}

/**
 * Orders the candidates for a task's next attempt: providers this task was turned away from
 * (failover at submit, circuit) are left out; a provider that failed one of its generations
 * (failover of an accepted attempt: it refunds, and the next may well succeed) comes after every
 * other, so a model only it serves is tried there again rather than failed, and is left out once
 * it has failed `GENERATION_FAILURES_PER_PROVIDER` of them; usable ones come
 * before those whose circuit is open or that asked us to wait; then those it has not tried before
 * those it has; then by priority; then by upstream cost in dollars; then in declaration order.
 */
export function rankRoutes(
  candidates: readonly RouteChoice[],
  states: ReadonlyMap<string, ProviderState>,
  history: readonly PastAttempt[],
): RankedRoutes {
  const excluded: { provider: string; reason: string }[] = [];
  const tried = new Set<string>();
  const failedGenerations = new Map<string, number>();
  for (const attempt of history) {
    tried.add(attempt.provider);
    if (attempt.failureKind === "failover" && attempt.state === "failed") {
      const failed = (failedGenerations.get(attempt.provider) ?? 0) + 1;
      failedGenerations.set(attempt.provider, failed);
      if (failed === GENERATION_FAILURES_PER_PROVIDER) {
        excluded.push({ provider: attempt.provider, reason: "failover" });
      }
    } else if (attempt.failureKind && EXCLUDING.includes(attempt.failureKind)) {
      excluded.push({ provider: attempt.provider, reason: attempt.failureKind });
    }
  }
  const left = new Set(excluded.map((e) => e.provider));
  const failedThere = (choice: RouteChoice) => failedGenerations.get(choice.provider.id) ?? 0;
  const blocked = (choice: RouteChoice) => Number(waitFor(choice, states) > 0);
  const triedBefore = (choice: RouteChoice) => Number(tried.has(choice.provider.id));
  const ranked = candidates
    .map((choice, order) => ({ choice, order }))
    .filter(({ choice }) => !left.has(choice.provider.id))
    .sort(
      (a, b) =>
        failedThere(a.choice) - failedThere(b.choice) ||
        blocked(a.choice) - blocked(b.choice) ||
        triedBefore(a.choice) - triedBefore(b.choice) ||
        a.choice.provider.priority - b.choice.provider.priority ||
        a.choice.upstreamCostMicros - b.choice.upstreamCostMicros ||
        a.order - b.order,
    )
    .map(({ choice }) => choice);
  return { ranked, excluded };
}

/** How long until a route can be used: 0 now, else its circuit's or its pause's remaining ms. */
export function waitFor(choice: RouteChoice, states: ReadonlyMap<string, ProviderState>): number {
  const state = states.get(choice.provider.id);
  return Math.max(state?.openForMs ?? 0, state?.pausedForMs ?? 0);
}
