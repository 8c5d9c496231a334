import { creditsHeldTotal } from "@ripen/core";
import type { Executor } from "@ripen/db";
import { addRefresh, circuitSource, creditsHeldSource, queueSource } from "@ripen/metrics";
import type { ProviderDeclaration, ProviderHealth } from "@ripen/providers";
import { readQueueDepths } from "@ripen/queue";
import type { Queue } from "bullmq";

/**
 * The figures every process could read alike (queue depths, circuits, credits held), reported by
 * the API's `/metrics` only, so that scaling workers does not multiply the reads; several API
 * processes report the same values, which dashboards take the max of. Returns the removal.
 */
export function reportSharedState(options: {
  db: Executor;
  queues: readonly Queue[];
  health: Pick<ProviderHealth, "states">;
  providers: readonly ProviderDeclaration[];
}): () => void {
  const removals = [
    addRefresh(queueSource(() => readQueueDepths(options.queues))),
    addRefresh(
      circuitSource(
        options.providers.map((provider) => provider.id),
        (ids) => options.health.states(ids),
      ),
    ),
    addRefresh(creditsHeldSource(() => creditsHeldTotal(options.db))),
  ];
  return () => {
    for (const remove of removals) remove();
  };
}
