import { type DialectClient, ProviderError } from "@ripen/core";
import { upstreamDuration, upstreamErrors } from "@ripen/metrics";
import { inCallSpan } from "@ripen/telemetry";

type Operation = "submit" | "status";

/**
 * The client with its calls timed and their failures counted, per provider and operation, and
 * each call a span of the task's trace (`upstream.submit`, `upstream.status`): every upstream
 * call of every step goes through a provider's client, so this is the one place.
 */
export function measuredClient(providerId: string, client: DialectClient): DialectClient {
  async function measure<T>(
    operation: Operation,
    upstreamModel: string,
    call: () => Promise<T>,
  ): Promise<T> {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    const attributes = {
      "ripen.provider": providerId,
      "ripen.dialect": client.dialect,
      "ripen.upstream_model": upstreamModel,
    };
    return inCallSpan(`upstream.${operation}`, attributes, async () => {
      try {
        const answer = await call();
        upstreamDuration.observe({ provider: providerId, operation, result: "ok" }, elapsed());
        return answer;
      } catch (error) {
        const kind = error instanceof ProviderError ? error.kind : "unknown";
        upstreamDuration.observe({ provider: providerId, operation, result: kind }, elapsed());
        upstreamErrors.inc({ provider: providerId, operation, kind });
        throw error;
      }
    });
  }
  return {
    dialect: client.dialect,
    sendsCallbacks: client.sendsCallbacks,
    submit: (request) => measure("submit", request.upstreamModel, () => client.submit(request)),
    status: (providerTaskId, upstreamModel) =>
      measure("status", upstreamModel, () => client.status(providerTaskId, upstreamModel)),
    parseCallback: (body) => client.parseCallback(body),
  };
}
