import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { checkPostgres, checkRedis, ensurePostgres, ensureRedis, pingRedis } from "./index";
import { freePort } from "./local";

const logs: string[] = [];
const log = (message: string) => logs.push(message);

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe("ensureRedis", () => {
  it("spawns redis-server when nothing listens on a local port, and stops it", async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const redis = await ensureRedis({ url, log, spawnFallback: true });
    cleanups.push(redis.stop);
    expect(redis).toMatchObject({ url, spawned: true });
    await pingRedis(url);

    // A second caller finds it running and leaves it alone.
    const again = await ensureRedis({ url, log, spawnFallback: true });
    expect(again.spawned).toBe(false);
    await again.stop();
    await pingRedis(url);

    await redis.stop();
    await expect(pingRedis(url)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("explains how to get Redis when redis-server is not on PATH", async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      await expect(ensureRedis({ url, log, spawnFallback: true })).rejects.toThrow(
        /docker compose up -d redis.*REDIS_URL/s,
      );
    } finally {
      process.env.PATH = path;
    }
  });

  it("does not start anything for a remote host", async () => {
    await expect(
      ensureRedis({ url: "redis://192.0.2.1:6379", log, spawnFallback: true }),
    ).rejects.toThrow();
  });

  it("starts nothing for a URL the operator set, and says which variable is wrong", async () => {
    const url = `redis://:hunter2@127.0.0.1:${await freePort()}`;
    const failure = ensureRedis({ url, log });
    await expect(failure).rejects.toThrow(
      /^REDIS_URL=redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: no Redis answers at 127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\)$/,
    );
    await expect(failure).rejects.not.toThrow(/hunter2|\n/);
    await expect(checkRedis(url, "QUEUE_REDIS_URL")).rejects.toThrow(
      /^QUEUE_REDIS_URL=.*no Redis answers/,
    );
    // Nothing was started behind the caller's back.
    await expect(pingRedis(url)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});

describe("ensurePostgres", () => {
  it("starts an embedded Postgres on a free local port, reuses it, and stops it", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ripen-infra-"));
    // As root, Postgres runs as the `postgres` user, which must be able to reach its data dir.
    await chmod(dir, 0o755);
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    const url = `postgres://ripen:s3cret@127.0.0.1:${port}/postgres`;

    const postgres = await ensurePostgres({
      url,
      dataDir: path.join(dir, "data"),
      log,
      embeddedFallback: true,
    });
    cleanups.push(postgres.stop);
    expect(postgres.embedded).toBe(true);

    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const { rows } = await client.query<{ user: string }>("select current_user as user");
    await client.end();
    expect(rows[0]?.user).toBe("ripen");

    const again = await ensurePostgres({
      url,
      dataDir: path.join(dir, "data"),
      log,
      embeddedFallback: true,
    });
    expect(again).toMatchObject({ url, embedded: false });

    // Wrong credentials are the caller's problem, said plainly.
    await expect(
      ensurePostgres({ url: url.replace("s3cret", "wrong"), dataDir: path.join(dir, "data"), log }),
    ).rejects.toThrow(/^DATABASE_URL=postgres:\/\/ripen:\*\*\*@.*rejected the credentials/);
    await checkPostgres(postgres.url);

    await postgres.stop();
    const probe = new pg.Client({ connectionString: url });
    await expect(probe.connect()).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});

describe("a DATABASE_URL the operator set", () => {
  it("fails in one line naming the variable, and starts nothing", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ripen-infra-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const url = `postgres://postgres:hunter2@127.0.0.1:${await freePort()}/ripen`;
    const failure = ensurePostgres({ url, dataDir: path.join(dir, "data"), log });
    await expect(failure).rejects.toThrow(
      /^DATABASE_URL=postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/ripen: no Postgres answers at 127\.0\.0\.1:\d+ \(.*\)$/,
    );
    await expect(failure).rejects.not.toThrow(/hunter2|\n/);
    await expect(checkPostgres(url)).rejects.toThrow(/^DATABASE_URL=.*no Postgres answers/);
    expect(existsSync(path.join(dir, "data"))).toBe(false);
  });

  it("names a database that does not exist", async () => {
    const url = new URL(inject("pgAdminUrl"));
    url.pathname = "/ripen_missing_database";
    await expect(checkPostgres(url.toString())).rejects.toThrow(
      /^DATABASE_URL=.*has no database "ripen_missing_database"/,
    );
  });
});
