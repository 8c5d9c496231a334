import { describe, expect, it } from "vitest";
import {
  ConfigError,
  loadEnv,
  parseRedisClusterUrl,
  redactUrl,
  redisHashTag,
  sharedEnv,
} from "./index";

function issuesOf(source: Record<string, string>) {
  try {
    loadEnv(sharedEnv, source);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe("REDIS_URL for a Redis Cluster", () => {
  it("reads the seeds, credentials and TLS of redis+cluster:// and rediss+cluster://", () => {
    expect(parseRedisClusterUrl("redis+cluster://10.0.0.1:7000,10.0.0.2,[::1]:7002/")).toEqual({
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 6379 },
        { host: "::1", port: 7002 },
      ],
      seedUrls: ["redis://10.0.0.1:7000", "redis://10.0.0.2", "redis://[::1]:7002"],
      tls: false,
    });
    expect(parseRedisClusterUrl("rediss+cluster://ripen:p%40ss@cache.internal:6380")).toEqual({
      nodes: [{ host: "cache.internal", port: 6380 }],
      seedUrls: ["rediss://ripen:p%40ss@cache.internal:6380"],
      username: "ripen",
      password: "p@ss",
      tls: true,
    });
    expect(parseRedisClusterUrl("redis+cluster://:secret@a:1,b:2")).toMatchObject({
      password: "secret",
    });
    expect(parseRedisClusterUrl("redis://127.0.0.1:6379")).toBeNull();
  });

  it.each([
    ["redis+cluster://", "is not a host:port"],
    ["redis+cluster://a:1,,b:2", "is not a host:port"],
    ["redis+cluster://a:99999", "is not a host:port"],
    ["redis+cluster://a:1/1", "no database path"],
    ["redis+cluster://a:1?tls=true", "no database path"],
    ["redis+cluster://u:%zz@a:1", "percent-encoded"],
  ])("refuses %s at start", (url, message) => {
    const issues = issuesOf({ REDIS_URL: url });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ variable: "REDIS_URL" });
    expect(issues[0]!.message).toContain(message);
  });

  it("accepts a cluster with the default prefix, and asks for a hash tag in any other", () => {
    const env = loadEnv(sharedEnv, { REDIS_URL: "redis+cluster://a:7000,b:7001" });
    expect(env).toMatchObject({
      REDIS_URL: "redis+cluster://a:7000,b:7001",
      QUEUE_PREFIX: "{ripen}",
    });
    for (const prefix of ["ripen", "ripen{}", "ripen}{x"]) {
      const issues = issuesOf({ REDIS_URL: "redis+cluster://a:7000", QUEUE_PREFIX: prefix });
      expect(
        issues.map((i) => i.variable),
        prefix,
      ).toEqual(["QUEUE_PREFIX"]);
      expect(issues[0]!.message).toContain("hash tag");
    }
    // One server needs none.
    expect(issuesOf({ REDIS_URL: "redis://a:6379", QUEUE_PREFIX: "ripen" })).toEqual([]);
  });

  it("never shows a cluster URL's password", () => {
    const issues = issuesOf({ REDIS_URL: "redis+cluster://:hunter2@a:1,b:2/0" });
    expect(issues[0]!.message).toContain('"redis+cluster://:***@a:1,b:2/0"');
    expect(issues[0]!.message).not.toContain("hunter2");
    expect(redactUrl("rediss+cluster://me:hunter2@a:1,b:2")).toBe(
      "rediss+cluster://me:***@a:1,b:2",
    );
    expect(redactUrl("redis://:hunter2@a:1")).toBe("redis://:***@a:1");
    expect(redactUrl("redis://a:1")).toBe("redis://a:1");
  });
});

describe("redisHashTag", () => {
  it("reads the tag as Redis Cluster does: the first {…}, when not empty", () => {
    expect(redisHashTag("{ripen}:tasks:1")).toBe("ripen");
    expect(redisHashTag("ripen{a}{b}")).toBe("a");
    expect(redisHashTag("{}{ripen}")).toBeNull();
    expect(redisHashTag("ripen")).toBeNull();
    expect(redisHashTag("}{ripen")).toBeNull();
  });
});
