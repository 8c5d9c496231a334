/**
 * `npm run bench [-- [--quick] [--workers=N] [--pgbouncer] [phase letters…]]`: Ripen's services
 * each in their own process (API, worker, callbacks, sandbox), driven from this process over
 * HTTP, next to a bare express baseline and a naive pipeline measured in the same run. Prints
 * figures, ratios and issue 14's targets with pass or fail; asserts nothing. With letters
 * (`npm run bench -- --quick g`), only those phases run; without, all of them. Each phase is a
 * module of bench/phases/.
 *
 * Throwaway state: databases ripen_bench_<pid>[_create|_naive] on the Postgres server of
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432), and a private redis-server on a free
 * port (or, without redis-server on PATH, the Redis at 127.0.0.1:6379 under unique prefixes).
 * All of it is removed at the end, also when a phase fails or on Ctrl+C.
 */
import os from "node:os";
import { redactUrl } from "@ripen/infra";
import { Redis } from "ioredis";
import { createContext } from "./lib/context";
import { adminQuery, pgServer, privateRedis } from "./lib/infra";
import { log, quick, selected, throughPgBouncer, workerCount } from "./lib/plan";
import { formatTable, Report } from "./lib/report";
import { type Measurements, targetsTable } from "./lib/targets";
import { onTeardown, tearDown } from "./lib/teardown";
import { phases } from "./phases";

const letters = phases.map((p) => p.letter).sort();
const unknown = selected.filter((letter) => !letters.includes(letter));
if (unknown.length > 0) {
  console.error(`unknown phase ${unknown.join(", ")}: the phases are ${letters.join(" ")}`);
  process.exit(2);
}
const runs = (letter: string) => selected.length === 0 || selected.includes(letter);

const report = new Report();
const measured: Measurements = {};
const phaseState = new Map<string, "ran" | "failed">();

async function main(): Promise<void> {
  const redisTarget = await privateRedis();
  const redis = new Redis(redisTarget.url, { maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  onTeardown("redis client", async () => redis.disconnect());
  console.log((await machine(redis, redisTarget.label)).join("\n"));

  const { ctx, prepare } = createContext(redis, redisTarget);
  for (const phase of phases) {
    if (stopping || !runs(phase.letter)) continue;
    const name = `${phase.letter}. ${phase.title}`;
    const started = performance.now();
    try {
      await prepare(phase.needs);
      const section = await phase.run(ctx);
      report.table(phase.letter, { ...section, title: `${phase.letter}. ${section.title}` });
      Object.assign(measured, section.measured);
      phaseState.set(phase.letter, "ran");
      log(`${name}: done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    } catch (error) {
      log(`${name}: failed: ${(error as Error).message}`);
      report.failed(phase.letter, phase.title, error);
      phaseState.set(phase.letter, "failed");
    }
  }
}

/** The header: what ran, on what. */
async function machine(redis: Redis, redisLabel: string): Promise<string[]> {
  const cpus = os.cpus();
  const [pg] = await adminQuery<{ v: string }>("select current_setting('server_version') as v");
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1] ?? "?";
  return [
    `Ripen bench${quick ? " (--quick)" : ""}${selected.length > 0 ? `, phases ${selected.join(" ")}` : ""}, ${new Date().toISOString().slice(0, 16)}Z`,
    `machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? "?"}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
      `${os.type()} ${os.release()}, Node ${process.version}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")} at start`,
    `Postgres ${pg?.v ?? "?"} at ${redactUrl(pgServer)}; Redis ${redisVersion} (${redisLabel})`,
    "Services run as separate processes (node --import tsx), NODE_ENV=production, LOG_LEVEL=warn;",
    `${workerCount} worker process${workerCount > 1 ? "es" : ""}; Postgres ${throughPgBouncer ? "through a PgBouncer in transaction mode" : "directly"};`,
    "load comes from this process (autocannon), on the same machine.",
  ];
}

let stopping = false;
async function finish(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    const summary = targetsTable(measured, (letter) =>
      runs(letter) ? (phaseState.get(letter) ?? "failed") : "not run",
    );
    console.log([report.toString(), ...formatTable(summary)].join("\n"));
    log("cleaning up");
    await tearDown();
  }
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  // Not once: tsx relays the terminal's Ctrl+C, so one press arrives twice, and the default
  // action of the second would end the process halfway through cleaning up.
  process.on(signal, () => {
    if (stopping) {
      log(`${signal}: still cleaning up`);
      return;
    }
    log(`${signal}: stopping`);
    void finish(130);
  });
}

const benchStarted = performance.now();
try {
  await main();
  log(`finished in ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`);
  await finish(0);
} catch (error) {
  log(`bench failed: ${(error as Error).stack ?? error}`);
  await finish(1);
}
