import type { Phase } from "../lib/context";
import { createTask } from "./a-create";
import { endToEnd } from "./b-end-to-end";
import { callbackToReadable } from "./c-callback";
import { upstreamCalls } from "./d-upstream-calls";
import { inFlight } from "./e-in-flight";
import { fairness } from "./f-fairness";
import { doors } from "./g-doors";
import { batch } from "./h-batch";
import { limits } from "./i-limits";

/**
 * Every phase, in the order they run (the report prints them by letter). The create phases come
 * first (limits among them), before Ripen's worker exists; then those at the sandbox's generation 0, so the sandbox
 * restarts only twice (2 s for d, 1 h for c and e); e last, as it leaves 10,000 tasks in flight.
 */
export const phases: Phase[] = [
  createTask,
  doors,
  limits,
  endToEnd,
  fairness,
  batch,
  upstreamCalls,
  callbackToReadable,
  inFlight,
];
