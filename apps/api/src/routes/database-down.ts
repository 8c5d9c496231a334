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
