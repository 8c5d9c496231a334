import { type AnyModelSpec, CapacityExceeded, type PreparedTask } from "@ripen/core";
import { getModel } from "@ripen/models";
import { START_BY_SHARE } from "@ripen/providers";
import type { DoorDeps } from "./deps";

/*
 * Admission control as the doors apply it: a create or a batch that no provider serving its
 * model can start before its deadline is refused here, logged once, in the door's own 429.
 */

/** Logs the refusal (`task.refused`) and builds its error. */
export function capacityRefusal(
  deps: Pick<DoorDeps, "logger">,
  refusal: {
    accountId: string;
    model: string;
    door: string;
    providers: readonly string[];
    startInMs: number;
    retryAfterMs: number;
    items?: number;
  },
): CapacityExceeded {
  deps.logger.info(
    { event: "task.refused", ...refusal },
    "no provider can start the work before its deadline",
  );
  return new CapacityExceeded(
    refusal.model,
    refusal.providers,
    Math.ceil(refusal.startInMs / 1000),
    Math.max(1, Math.ceil(refusal.retryAfterMs / 1000)),
  );
}

/**
 * A batch's admission: its items, grouped by model, are projected onto the providers that serve
 * them behind what already waits there. Refused (CapacityExceeded) when a group's last item
 * would not start by `START_BY_SHARE` of its deadline; else when the last item of the slowest
 * group should have started. Null without admission control, or when Redis cannot say.
 */
export async function admitBatch(
  deps: Pick<DoorDeps, "capacity" | "logger">,
  accountId: string,
  items: readonly PreparedTask[],
  now: Date,
): Promise<Date | null> {
  const capacity = deps.capacity;
  if (!capacity || items.length === 0) return null;
  const groups = new Map<string, { spec: AnyModelSpec; first: PreparedTask; count: number }>();
  for (const item of items) {
    const group = groups.get(item.model);
    if (group) group.count++;
    else groups.set(item.model, { spec: getModel(item.model), first: item, count: 1 });
  }
  let lastStartInMs = 0;
  for (const { spec, first, count } of groups.values()) {
    const projected = await capacity.projectStarts(spec, first.input, count, now).catch((error) => {
      deps.logger.warn({ err: error }, "batch admission skipped (redis)");
      return null;
    });
    if (!projected) return null;
    const startBy = START_BY_SHARE * (first.deadlineAt.getTime() - now.getTime());
    if (projected.lastStartInMs > startBy) {
      throw capacityRefusal(deps, {
        accountId,
        model: spec.id,
        door: "native",
        providers: projected.providers,
        startInMs: projected.lastStartInMs,
        retryAfterMs: projected.lastStartInMs - startBy,
        items: count,
      });
    }
    lastStartInMs = Math.max(lastStartInMs, projected.lastStartInMs);
  }
  return new Date(now.getTime() + lastStartInMs);
}
