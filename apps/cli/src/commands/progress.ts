/**
 * A batch as the CLI shows it: read from `GET /v1/batches/{id}` (tolerant of snake_case or
 * camelCase and of the native status names), drawn as a live bar on a terminal or one line per
 * change in a log, and summed up at the end.
 */

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export interface BatchCounts {
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  canceled: number;
  expired: number;
}

export interface BatchSnapshot {
  id: string;
  state: string;
  total: number;
  counts: BatchCounts;
  credits: { held: number; captured: number; released: number };
  createdAtMs?: number;
  endedAtMs?: number;
  /** The API's own measure, creation to end (or to now while running). */
  elapsedMs?: number;
}

/** Status names as the API may spell them (Ripen's own, or the native view's) → the CLI's. */
const countAliases: Record<string, keyof BatchCounts> = {
  queued: "queued",
  pending: "queued",
  submitting: "running",
  running: "running",
  processing: "running",
  succeeded: "succeeded",
  completed: "succeeded",
  failed: "failed",
  canceled: "canceled",
  cancelled: "canceled",
  expired: "expired",
};

const num = (value: unknown): number => {
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : 0;
};
const first = (source: Json, ...keys: string[]): unknown => {
  for (const key of keys) if (source[key] !== undefined && source[key] !== null) return source[key];
  return undefined;
};

/** Unix seconds (the native API's) or milliseconds or an ISO string → epoch ms. */
export function toEpochMs(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) {
    return value < 1e12 ? value * 1000 : value;
  }
  if (typeof value === "string" && value) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

export function toSnapshot(raw: unknown): BatchSnapshot {
  const body = isObject(raw) ? raw : {};
  const counts: BatchCounts = {
    queued: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    canceled: 0,
    expired: 0,
  };
  const countSource = first(body, "counts", "status_counts", "statusCounts", "items");
  const fromCounts = isObject(countSource) ? countSource : body;
  for (const [name, target] of Object.entries(countAliases)) {
    counts[target] += num(fromCounts[name]);
  }
  const creditSource = first(body, "credits");
  const credits = isObject(creditSource)
    ? {
        held: num(creditSource.held),
        captured: num(creditSource.captured),
        released: num(creditSource.released),
      }
    : {
        held: num(first(body, "credits_held", "creditsHeld")),
        captured: num(first(body, "credits_captured", "creditsCaptured")),
        released: num(first(body, "credits_released", "creditsReleased")),
      };
  const summed = Object.values(counts).reduce((a, b) => a + b, 0);
  const total = num(first(body, "total", "total_items", "totalItems")) || summed;
  const timing = isObject(body.timing) ? body.timing : body;
  return {
    id: String(first(body, "id", "batch_id", "batchId") ?? ""),
    state: String(first(body, "state", "status") ?? "running"),
    total,
    counts,
    credits,
    createdAtMs: toEpochMs(first(timing, "created_at", "createdAt", "started_at", "startedAt")),
    endedAtMs: toEpochMs(first(timing, "ended_at", "endedAt", "completed_at", "completedAt")),
    ...(typeof first(timing, "elapsed_ms", "elapsedMs") === "number"
      ? { elapsedMs: first(timing, "elapsed_ms", "elapsedMs") as number }
      : {}),
  };
}

export const endedCount = (s: BatchSnapshot) =>
  s.counts.succeeded + s.counts.failed + s.counts.canceled + s.counts.expired;

/** Whether watching can stop: the API says so, or every item has ended. */
export function hasEnded(s: BatchSnapshot): boolean {
  if (!["running", "processing", "pending", "queued", "active"].includes(s.state)) return true;
  return s.total > 0 && endedCount(s) >= s.total;
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

const unsuccessful = (s: BatchSnapshot) => s.counts.failed + s.counts.canceled + s.counts.expired;

/** The facts a line shows, without timing: a line is printed when these change. */
export function progressKey(s: BatchSnapshot): string {
  return [s.state, endedCount(s), unsuccessful(s), s.credits.held, s.credits.captured].join("|");
}

export interface Timing {
  elapsedMs: number;
  /** Undefined until the rate can be measured. */
  etaMs?: number;
}

/**
 * Estimates the time left from the rate seen while watching (items ended since the first poll),
 * not since the batch was created, so resuming a watch on an old batch does not skew it.
 */
export class EtaEstimator {
  private start?: { at: number; done: number };

  constructor(private readonly now: () => number = Date.now) {}

  timing(s: BatchSnapshot): Timing {
    const at = this.now();
    const done = endedCount(s);
    this.start ??= { at, done };
    const elapsedMs = at - (s.createdAtMs ?? this.start.at);
    const progressed = done - this.start.done;
    const spent = at - this.start.at;
    const left = s.total - done;
    if (left <= 0) return { elapsedMs, etaMs: 0 };
    if (progressed <= 0 || spent <= 0) return { elapsedMs };
    return { elapsedMs, etaMs: (left * spent) / progressed };
  }
}

const plural = (n: number, word: string) => `${n} ${word}`;

/** The counters both renderings share: "412/1000 done · 3 failed · held 1,200 · captured 6,400". */
function counters(s: BatchSnapshot): string {
  const done = endedCount(s);
  const percent = s.total > 0 ? Math.floor((done * 100) / s.total) : 0;
  return [
    `${String(percent).padStart(3)}%`,
    `${done}/${s.total} done`,
    plural(unsuccessful(s), "failed"),
    `held ${s.credits.held.toLocaleString("en-US")}`,
    `captured ${s.credits.captured.toLocaleString("en-US")} cr`,
  ].join(" · ");
}

function times(t: Timing): string {
  return `${formatDuration(t.elapsedMs)} elapsed · ETA ${t.etaMs === undefined ? "–" : formatDuration(t.etaMs)}`;
}

/** One line for a log (stderr not a terminal). */
export function progressLine(s: BatchSnapshot, t: Timing): string {
  return `${s.id} ${s.state}: ${counters(s)} · ${times(t)}`;
}

/** The same facts, shorter, for a narrow terminal. */
function compact(s: BatchSnapshot, t: Timing): string {
  const done = endedCount(s);
  const percent = s.total > 0 ? Math.floor((done * 100) / s.total) : 0;
  const eta = t.etaMs === undefined ? "–" : formatDuration(t.etaMs);
  return `${String(percent).padStart(3)}% ${done}/${s.total} · ${unsuccessful(s)} failed · held ${s.credits.held} · captured ${s.credits.captured} · ${formatDuration(t.elapsedMs)} · ETA ${eta}`;
}

/** Room kept for the text beside the bar, full and compact (typical lengths, not maxima). */
const FULL_TEXT = 96;
const COMPACT_TEXT = 66;

/**
 * The bar for a terminal of `columns` columns; succeeded `█`, failed `x`, pending `░`. Its width
 * depends on the terminal only, so it does not jitter as the numbers grow; the text shortens,
 * then the bar goes, and a line never wraps (a wrapped line cannot be redrawn in place).
 */
export function progressBar(s: BatchSnapshot, t: Timing, columns: number): string {
  const room = columns - 1;
  const full = room - FULL_TEXT - 2 >= 10;
  const text = full ? ` ${counters(s)} · ${times(t)}` : ` ${compact(s, t)}`;
  const width = Math.min(40, room - (full ? FULL_TEXT : COMPACT_TEXT) - 2);
  if (width < 10) return text.trim().slice(0, Math.max(0, room));
  const cells = (n: number) => (s.total > 0 ? Math.floor((n * width) / s.total) : 0);
  const bad = cells(unsuccessful(s));
  const good = Math.min(width - bad, cells(s.counts.succeeded));
  const bar = "█".repeat(good) + "x".repeat(bad) + "░".repeat(Math.max(0, width - good - bad));
  return `[${bar}]${text}`.slice(0, Math.max(0, room));
}

/** The end of a watch, for stdout. */
export function summary(s: BatchSnapshot, wallMs: number): string {
  return [
    `Batch ${s.id} ${s.state}: ${s.total} items`,
    `  succeeded ${s.counts.succeeded}, failed ${s.counts.failed}, canceled ${s.counts.canceled}, expired ${s.counts.expired}${
      s.counts.queued + s.counts.running > 0
        ? `, not ended ${s.counts.queued + s.counts.running}`
        : ""
    }`,
    `  credits captured ${s.credits.captured}, released ${s.credits.released}${
      s.credits.held > 0 ? `, still held ${s.credits.held}` : ""
    }`,
    `  wall time ${formatDuration(wallMs)}`,
  ].join("\n");
}

/** Draws on a terminal (redrawn in place) or writes one line per change (a log, a pipe). */
export class ProgressReporter {
  private lastKey?: string;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly estimator = new EtaEstimator(),
  ) {}

  private get tty(): boolean {
    return Boolean(this.out.isTTY);
  }

  update(s: BatchSnapshot): void {
    const t = this.estimator.timing(s);
    if (this.tty) {
      this.out.write(`\r\x1b[2K${progressBar(s, t, this.out.columns || 80)}`);
      this.drawn = true;
      return;
    }
    const key = progressKey(s);
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.out.write(`${progressLine(s, t)}\n`);
  }

  /** A line of its own (a warning) without tearing the bar. */
  note(message: string): void {
    this.finish();
    this.out.write(`${message}\n`);
  }

  /** Ends the bar's line so what follows starts on a fresh one. */
  finish(): void {
    if (this.drawn) this.out.write("\n");
    this.drawn = false;
  }
}
