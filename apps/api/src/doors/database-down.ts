import { isDatabaseUnavailable, ServiceUnavailable } from "@ripen/core";

/**
 * Runs a route's work; Postgres being unreachable is the client's 503 `service_unavailable` (the
 * same request can be retried), not our 500.
 */
export async function orUnavailable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isDatabaseUnavailable(error)) throw error;
    throw new ServiceUnavailable(
      "The service is temporarily unavailable (its database cannot be reached). Please retry shortly.",
    );
  }
}

/**
 * A door's backend whose every method answers 503 `service_unavailable` (in the door's envelope)
 * when Postgres cannot be reached, rather than a 500.
 */
export function unavailableWhenDatabaseIsDown<B extends object>(backend: B): B {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(backend)) {
    wrapped[name] =
      typeof method === "function"
        ? (...args: unknown[]) => orUnavailable(() => method.apply(backend, args))
        : method;
  }
  return wrapped as B;
}
