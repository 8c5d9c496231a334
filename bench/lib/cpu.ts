import { readdirSync, readFileSync } from "node:fs";

/*
 * CPU time by role, read from /proc: what a task costs each process, user and kernel time
 * together (a round trip over loopback TCP is mostly kernel time in the sender). Unlike tasks/s,
 * CPU per task barely moves when the shared machine is busy, so it is the figure to compare
 * between runs.
 */

const TICKS_PER_SECOND = 100;

/** The role of a process, from its command line; null for the processes not counted. */
function roleOf(pid: number, comm: string, cmdline: string): string | null {
  if (pid === process.pid) return "bench driver";
  if (comm === "postgres") return "postgres";
  if (comm === "redis-server") return "redis";
  if (comm === "pgbouncer") return "pgbouncer";
  const entry = /(apps\/\w+\/src\/main\.ts|bench\/naive\/\w+\.ts|bench\/baseline-server\.ts)/.exec(
    cmdline,
  )?.[1];
  if (!entry) return null;
  if (entry.startsWith("apps/")) return entry.split("/")[1]!;
  if (entry.startsWith("bench/naive/")) return `naive ${entry.slice(12, -3)}`;
  return "baseline server";
}

interface ProcessStat {
  pid: number;
  parent: number;
  comm: string;
  cpuMs: number;
}

function readStat(pid: number): ProcessStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    // Fields after the command: state, ppid, …, utime (the 12th after it), stime (the 13th).
    const fields = stat.slice(close + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return {
      pid,
      parent: Number(fields[1]),
      comm: stat.slice(stat.indexOf("(") + 1, close),
      cpuMs: (ticks * 1000) / TICKS_PER_SECOND,
    };
  } catch {
    return null; // The process ended between the listing and the read.
  }
}

/** CPU milliseconds used so far by each counted process, with its role, by pid. */
export type CpuReading = Map<number, { role: string; ms: number }>;

/**
 * The CPU time so far of each counted live process: this bench's own (its descendants:
 * services, private Redis), and every Postgres process, which the bench shares with whatever else
 * uses that server.
 */
export function readCpu(): CpuReading {
  const stats = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => readStat(Number(name)) ?? []);
  const parentOf = new Map(stats.map((stat) => [stat.pid, stat.parent]));
  const ours = (pid: number) => {
    for (let at = pid, hops = 0; at > 1 && hops < 16; at = parentOf.get(at) ?? 0, hops++) {
      if (at === process.pid) return true;
    }
    return false;
  };
  const reading: CpuReading = new Map();
  for (const stat of stats) {
    if (stat.comm !== "postgres" && !ours(stat.pid)) continue;
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${stat.pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    const role = roleOf(stat.pid, stat.comm, cmdline);
    if (role) reading.set(stat.pid, { role, ms: stat.cpuMs });
  }
  return reading;
}

/**
 * CPU ms each role spent between two readings. A process that ended in between is left out
 * rather than subtracted (its time since the first reading is lost with it): summing by role
 * instead, a pool's connections closed while idle made Postgres's share read as nothing.
 */
export function cpuSpent(before: CpuReading, after: CpuReading): Map<string, number> {
  const spent = new Map<string, number>();
  for (const [pid, { role, ms }] of after) {
    spent.set(role, (spent.get(role) ?? 0) + ms - (before.get(pid)?.ms ?? 0));
  }
  return spent;
}

/** CPU ms per task by role between two readings, largest first, with the total. */
export function cpuPerTask(
  before: CpuReading,
  after: CpuReading,
  tasks: number,
): { role: string; ms: number }[] {
  return cpuPer(cpuSpent(before, after), tasks);
}

/** CPU ms spent by role, divided among `count` (tasks, items, requests), largest first, with the total. */
export function cpuPer(spent: Map<string, number>, count: number) {
  const rows = [...spent].map(([role, ms]) => ({ role, ms: ms / Math.max(1, count) }));
  const counted = rows.filter((row) => row.ms > 0.005).sort((a, b) => b.ms - a.ms);
  return [...counted, { role: "total", ms: counted.reduce((sum, row) => sum + row.ms, 0) }];
}
