import { getNextMillis } from "bullmq";

/*
 * Schedules' cron, read by BullMQ's own parser (`getNextMillis`, the function its job schedulers
 * compute their next fire time with), so what the API accepts is exactly what fires: 5 fields, or
 * 6 with seconds first, in an IANA time zone.
 */

/** Why a cron or time zone was refused: which of the two, and a sentence for the client. */
export interface CronProblem {
  field: "cron" | "timezone";
  message: string;
}

/** Whether `timezone` is an IANA zone this runtime knows ("Europe/Paris", "UTC"). */
function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** The cron's first fire time after `afterMs`, or null when it never fires (a 30 February). */
export function nextFireAfter(cron: string, timezone: string, afterMs: number): number | null {
  const next = getNextMillis(afterMs, { pattern: cron, tz: timezone });
  return typeof next === "number" && Number.isFinite(next) ? next : null;
}

/** Null when BullMQ would schedule `cron` in `timezone`; otherwise what is wrong, by field. */
export function cronProblem(cron: string, timezone: string): CronProblem | null {
  if (typeof timezone !== "string" || timezone === "" || !isTimeZone(timezone)) {
    return {
      field: "timezone",
      message: `'timezone' must be an IANA time zone such as "UTC" or "Europe/Paris" (got ${JSON.stringify(timezone)}).`,
    };
  }
  const fields = typeof cron === "string" ? cron.trim().split(/\s+/) : [];
  if (fields.length !== 5 && fields.length !== 6) {
    return {
      field: "cron",
      message: `'cron' must have 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first (got ${JSON.stringify(cron)}).`,
    };
  }
  try {
    if (nextFireAfter(cron, timezone, Date.now()) === null) {
      return { field: "cron", message: `'cron' ${JSON.stringify(cron)} never fires.` };
    }
  } catch (error) {
    return {
      field: "cron",
      message: `'cron' ${JSON.stringify(cron)} is not a valid cron expression: ${(error as Error).message}.`,
    };
  }
  return null;
}

/** How far back `latestFireAtOrBefore` looks, widening until a window holds a fire time. */
const LOOKBACK_WINDOWS_MS = [60_000, 3_600_000, 86_400_000, 32 * 86_400_000, 367 * 86_400_000];

/**
 * The cron's latest fire time at or before `atMs` (BullMQ's parser only steps forward): starts
 * from the smallest window back that holds one and steps forward through it. Null when none in
 * the last year.
 */
export function latestFireAtOrBefore(cron: string, timezone: string, atMs: number): number | null {
  for (const windowMs of LOOKBACK_WINDOWS_MS) {
    let fire = nextFireAfter(cron, timezone, atMs - windowMs - 1);
    if (fire === null || fire > atMs) continue;
    // At most one window's worth of steps: the window before it held none.
    for (let steps = 0; steps < 100_000; steps++) {
      const next = nextFireAfter(cron, timezone, fire);
      if (next === null || next > atMs) return fire;
      fire = next;
    }
    return fire;
  }
  return null;
}
