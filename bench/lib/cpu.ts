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
  const entry = /(apps\/\w+\/src\/main\.ts|bench\/naive\/\w+\.ts|bench\/baseline-server\.ts)/.exec(
    cmdline,
  )?.[1];
  if (!entry) return null;
  if (entry.startsWith("apps/")) return entry.split("/")[1]!;
  if (entry.startsWith("bench/naive/")) return `naive ${entry.slice(12, -3)}`;
  return null;
}

/** CPU milliseconds used so far by each role's live processes. */
export function cpuByRole(): Map<string, number> {
  const totals = new Map<string, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ");
      const role = roleOf(Number(name), comm, cmdline);
      if (!role) continue;
      // Fields after the command: state is the 3rd field, utime the 14th and stime the 15th.
      const fields = stat.slice(close + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]);
      totals.set(role, (totals.get(role) ?? 0) + (ticks * 1000) / TICKS_PER_SECOND);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return totals;
}

/** CPU ms per task by role between two readings, largest first, with the total. */
export function cpuPerTask(
  before: Map<string, number>,
  after: Map<string, number>,
  tasks: number,
): { role: string; ms: number }[] {
  const rows = [...after].map(([role, ms]) => ({
    role,
    ms: (ms - (before.get(role) ?? 0)) / Math.max(1, tasks),
  }));
  const counted = rows.filter((row) => row.ms > 0.005).sort((a, b) => b.ms - a.ms);
  return [...counted, { role: "total", ms: counted.reduce((sum, row) => sum + row.ms, 0) }];
}
