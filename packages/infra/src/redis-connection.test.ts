import { Cluster, Redis } from "ioredis";
import { describe, expect, inject, it } from "vitest";
import { freePort } from "./local";
import { checkRedis, ensureRedis } from "./redis";
import { connectRedis } from "./redis-connection";

describe("connectRedis", () => {
  it("connects to one server for redis://", () => {
    const redis = connectRedis("redis://127.0.0.1:1", { lazyConnect: true });
    expect(redis).toBeInstanceOf(Redis);
    redis.disconnect();
  });

  it("makes a Cluster for redis+cluster://, the cluster's options to it and the rest to each node", () => {
    const cluster = connectRedis("rediss+cluster://ripen:hunter2@127.0.0.1:1,127.0.0.1:2", {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: null,
      connectTimeout: 2_000,
      connectionName: "ripen-test",
    });
    expect(cluster).toBeInstanceOf(Cluster);
    expect((cluster as Cluster).options).toMatchObject({
      lazyConnect: true,
      enableOfflineQueue: false,
      redisOptions: {
        username: "ripen",
        password: "hunter2",
        tls: {},
        // Where BullMQ looks for it on a Cluster.
        maxRetriesPerRequest: null,
        connectTimeout: 2_000,
        connectionName: "ripen-test",
      },
    });
    cluster.disconnect();
  });

  it("leaves the Cluster's defaults alone where no option is given", () => {
    const cluster = connectRedis("redis+cluster://127.0.0.1:1", { lazyConnect: true }) as Cluster;
    expect(cluster.options.enableOfflineQueue).toBe(true);
    expect(cluster.options.enableReadyCheck).toBe(true);
    expect(cluster.options.redisOptions).not.toHaveProperty("tls");
    cluster.disconnect();
  });
});

describe("ensureRedis with a Redis Cluster URL", () => {
  it("names the cluster's seeds, hides the password, and never spawns a server for it", async () => {
    const [a, b] = [await freePort(), await freePort()];
    const url = `redis+cluster://:hunter2@127.0.0.1:${a},127.0.0.1:${b}`;
    const failure = ensureRedis({ url, log: () => {}, spawnFallback: true });
    await expect(failure).rejects.toThrow(
      `REDIS_URL=redis+cluster://:***@127.0.0.1:${a},127.0.0.1:${b}: no Redis answers at ` +
        `Redis Cluster 127.0.0.1:${a},127.0.0.1:${b}`,
    );
    await expect(failure).rejects.not.toThrow(/hunter2/);
  });

  it("refuses a server that is not in cluster mode, saying so", async () => {
    const single = inject("redisUrl").replace(/^redis(s?):\/\//, "redis$1+cluster://");
    await expect(checkRedis(single)).rejects.toThrow(
      /could not use Redis at Redis Cluster .*cluster support disabled/,
    );
  });
});
