/**
 * The command line (`npm run chaos -- [--short] [--tasks N] [--rate R] …`) and what it implies,
 * read once.
 */
import { parseArgs } from "node:util";

export interface ChaosPlan {
  short: boolean;
  /** Tasks to create in all (a batch counts its items). */
  tasks: number;
  /** Tasks offered per second while the load runs. */
  rate: number;
  /** Creates the clients keep in flight at once, retries included. */
  concurrency: number;
  workers: number;
  /** `timeout_seconds` of every create that takes one (native creates and batch items). */
  timeoutSeconds: number;
  /** A worker is killed (-9) and started again this often while the load runs. */
  workerKillEveryMs: number;
  /**
   * Doors whose creates have no `timeout_seconds` (nanobanana, kie, revid) get their model's own
   * deadline (10–30 min). The short form sends them first and starts the chaos once all of them
   * have reached their provider, so no kill leaves one of them to wait out that deadline.
   */
  doorsBeforeChaos: boolean;
  /** The sandbox's share of calls that are never answered (0.5%; the short form leaves it out). */
  timeoutRate: number;
  /** The worker's sweep (shortened in the short form, whose deadlines are short). */
  sweep?: { everyMs: number; graceMs: number };
  /** Where to write the figures as JSON (for the test). */
  jsonPath?: string;
}

const { values } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    tasks: { type: "string" },
    rate: { type: "string" },
    concurrency: { type: "string" },
    workers: { type: "string" },
    json: { type: "string" },
  },
  strict: true,
});

const positive = (name: string, text: string | undefined, fallback: number) => {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a number > 0`);
  return value;
};

const short = values.short ?? false;

export const plan: ChaosPlan = {
  short,
  tasks: Math.round(positive("tasks", values.tasks, short ? 300 : 20_000)),
  rate: positive("rate", values.rate, short ? 25 : 80),
  concurrency: Math.round(positive("concurrency", values.concurrency, 64)),
  workers: Math.max(2, Math.round(positive("workers", values.workers, short ? 2 : 3))),
  timeoutSeconds: short ? 45 : 180,
  workerKillEveryMs: short ? 8_000 : 5_000,
  doorsBeforeChaos: short,
  timeoutRate: short ? 0 : 0.005,
  sweep: short ? { everyMs: 5_000, graceMs: 10_000 } : undefined,
  jsonPath: values.json,
};
