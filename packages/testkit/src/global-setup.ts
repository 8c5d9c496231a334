import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { migrateDatabase, migrationsFolder } from "@ripen/db";
import { ensurePostgres, ensureRedis } from "@ripen/infra";
import pg from "pg";
import type { TestProject } from "vitest/node";
import "./provided";

const repoRoot = path.resolve(migrationsFolder, "..");

interface Services {
  postgresUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

/**
 * Finds Postgres and Redis the way `npm start` does. A URL given in the environment must answer;
 * unset, localhost is tried, then the embedded Postgres and a spawned redis-server, and failing
 * those, containers when Docker is there.
 */
async function resolveServices(): Promise<Services> {
  const log = (message: string) => console.log(`[test setup] ${message}`);
  const postgresVariable = process.env.TEST_DATABASE_URL ? "TEST_DATABASE_URL" : "DATABASE_URL";
  const postgresGiven = process.env[postgresVariable] || undefined;
  const redisGiven = process.env.REDIS_URL || undefined;
  const postgresUrl = postgresGiven ?? "postgres://postgres:postgres@127.0.0.1:5432/postgres";
  const redisUrl = redisGiven ?? "redis://127.0.0.1:6379";
  try {
    const postgres = await ensurePostgres({
      url: postgresUrl,
      dataDir: path.join(repoRoot, ".data/postgres"),
      log,
      embeddedFallback: !postgresGiven,
      variable: postgresVariable,
    });
    const redis = await ensureRedis({ url: redisUrl, log, spawnFallback: !redisGiven }).catch(
      async (error) => {
        await postgres.stop();
        throw error;
      },
    );
    return {
      postgresUrl: postgres.url,
      redisUrl: redis.url,
      stop: async () => {
        await redis.stop();
        await postgres.stop();
      },
    };
  } catch (error) {
    // What the operator named is what the tests must use; containers only stand in for defaults.
    if (postgresGiven || redisGiven) throw error;
    log(`local services unavailable (${(error as Error).message}); trying testcontainers`);
    return startContainers(error as Error);
  }
}

async function startContainers(cause: Error): Promise<Services> {
  const { GenericContainer, Wait } = await import("testcontainers").catch(() => {
    throw cause;
  });
  const postgres = await new GenericContainer("postgres:16-alpine")
    .withEnvironment({ POSTGRES_PASSWORD: "postgres" })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const redis = await new GenericContainer("redis:7-alpine").withExposedPorts(6379).start();
  return {
    postgresUrl: `postgres://postgres:postgres@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`,
    redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    stop: async () => {
      await Promise.all([postgres.stop(), redis.stop()]);
    },
  };
}

function migrationsHash(): string {
  const hash = createHash("sha256");
  for (const file of readdirSync(migrationsFolder, { recursive: true }).map(String).sort()) {
    if (file.endsWith(".sql"))
      hash.update(file).update(readFileSync(path.join(migrationsFolder, file)));
  }
  return hash.digest("hex").slice(0, 12);
}

function withDatabase(url: string, name: string): string {
  const next = new URL(url);
  next.pathname = `/${name}`;
  return next.toString();
}

/**
 * Migrates once into a template named after the migrations' hash; each test file clones it. The
 * template is built under a temporary name and renamed, so a half-built one is never cloned.
 */
async function ensureTemplate(adminUrl: string): Promise<string> {
  const template = `ripen_tpl_${migrationsHash()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query("select 1 from pg_database where datname = $1", [template]);
    if (exists.rowCount) return template;
    const building = `${template}_${process.pid}`;
    await admin.query(`drop database if exists ${building}`);
    await admin.query(`create database ${building}`);
    await migrateDatabase(withDatabase(adminUrl, building));
    await admin.query(`alter database ${building} rename to ${template}`).catch(async (error) => {
      await admin.query(`drop database if exists ${building}`);
      if (error.code !== "42P04") throw error; // another run finished first
    });
    return template;
  } finally {
    await admin.end();
  }
}

export default async function setup(project: TestProject) {
  const services = await resolveServices();
  const adminUrl = withDatabase(services.postgresUrl, "postgres");
  project.provide("pgAdminUrl", adminUrl);
  project.provide("pgTemplate", await ensureTemplate(adminUrl));
  project.provide("redisUrl", services.redisUrl);
  return () => services.stop();
}
