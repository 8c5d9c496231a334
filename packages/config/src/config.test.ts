import { describe, expect, it } from "vitest";
import {
  apiEnv,
  ConfigError,
  callbacksEnv,
  DEV_CALLBACK_SECRET,
  isSet,
  loadEnv,
  sandboxEnv,
  stackEnv,
  workerEnv,
  workerServiceEnv,
} from "./index";

/** The issues loadEnv reports for `source`, as `VARIABLE: message` lines. */
function issuesOf(schema: Parameters<typeof loadEnv>[0], source: Record<string, string>) {
  try {
    loadEnv(schema, source);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

const variables = (issues: { variable: string }[]) => issues.map((i) => i.variable).sort();

const production = {
  NODE_ENV: "production",
  CALLBACK_SECRET: "a-production-secret-0123456789",
};

describe("defaults", () => {
  it("starts every service with nothing set", () => {
    const stack = loadEnv(stackEnv, {});
    expect(stack).toMatchObject({
      DATABASE_URL: "postgres://postgres:postgres@127.0.0.1:5432/ripen",
      REDIS_URL: "redis://127.0.0.1:6379",
      PUBLIC_CALLBACK_URL: "http://127.0.0.1:3001",
      POLL_BASE_MS: 1_000,
      POLL_MAX_MS: 30_000,
      SANDBOX_ENABLED: true,
    });
    expect(loadEnv(workerServiceEnv, {})).toMatchObject({
      WORKER_HEALTH_PORT: 3002,
      SANDBOX_PORT: 3100,
    });
    for (const schema of [apiEnv, callbacksEnv, workerEnv, sandboxEnv]) {
      expect(() => loadEnv(schema, {})).not.toThrow();
    }
  });

  it("treats an empty value as unset", () => {
    const env = loadEnv(workerEnv, { DATABASE_URL: "", RIPEN_PROVIDERS: "", POLL_BASE_MS: "" });
    expect(env.DATABASE_URL).toBe("postgres://postgres:postgres@127.0.0.1:5432/ripen");
    expect(env.RIPEN_PROVIDERS).toBeUndefined();
    expect(env.POLL_BASE_MS).toBe(1_000);
    expect(isSet("X", { X: "" })).toBe(false);
    expect(isSet("X", {})).toBe(false);
    expect(isSet("X", { X: "0" })).toBe(true);
  });
});

describe("DATABASE_PREPARED_STATEMENTS", () => {
  it("is named by default, unnamed on request, nothing else", () => {
    expect(loadEnv(apiEnv, {}).DATABASE_PREPARED_STATEMENTS).toBe("named");
    expect(
      loadEnv(workerEnv, { DATABASE_PREPARED_STATEMENTS: "unnamed" }).DATABASE_PREPARED_STATEMENTS,
    ).toBe("unnamed");
    expect(issuesOf(callbacksEnv, { DATABASE_PREPARED_STATEMENTS: "off" })).toEqual([
      { variable: "DATABASE_PREPARED_STATEMENTS", message: expect.stringContaining('"unnamed"') },
    ]);
  });
});

describe("URL schemes", () => {
  it.each([
    ["DATABASE_URL", "postgres://u:p@db.internal:5432/ripen"],
    ["DATABASE_URL", "postgresql://db.internal/ripen"],
    ["REDIS_URL", "redis://cache.internal:6379/0"],
    ["REDIS_URL", "rediss://:secret@cache.internal:6380"],
    ["PUBLIC_CALLBACK_URL", "https://hooks.example.com/ripen"],
    ["PUBLIC_CALLBACK_URL", "http://10.0.0.5:3001"],
  ])("accepts %s=%s", (variable, value) => {
    expect(issuesOf(workerEnv, { [variable]: value })).toEqual([]);
  });

  it.each([
    ["DATABASE_URL", "mysql://db.internal/ripen", "postgres:// or postgresql://"],
    ["DATABASE_URL", "127.0.0.1:5432/ripen", "postgres:// or postgresql://"],
    ["REDIS_URL", "http://cache.internal:6379", "redis:// or rediss://"],
    ["REDIS_URL", "127.0.0.1:6379", "redis:// or rediss://"],
    // z.url() alone takes this as the scheme "localhost:"; every task would fail later.
    ["PUBLIC_CALLBACK_URL", "localhost:3001", "http:// or https://"],
    ["PUBLIC_CALLBACK_URL", "ftp://hooks.example.com", "http:// or https://"],
  ])("rejects %s=%s", (variable, value, expected) => {
    const issues = issuesOf(workerEnv, { [variable]: value });
    expect(issues).toEqual([{ variable, message: expect.stringContaining(expected) }]);
    expect(issues[0]!.message).toContain(JSON.stringify(value));
  });

  it("checks SANDBOX_PUBLIC_URL", () => {
    expect(issuesOf(sandboxEnv, { SANDBOX_PUBLIC_URL: "files.example:3100" })).toEqual([
      { variable: "SANDBOX_PUBLIC_URL", message: expect.stringContaining("http:// or https://") },
    ]);
    expect(issuesOf(sandboxEnv, { SANDBOX_PUBLIC_URL: "https://files.example" })).toEqual([]);
  });

  it("never shows a password or a secret in the message", () => {
    const issues = issuesOf(stackEnv, {
      DATABASE_URL: "mysql://admin:hunter2@db/ripen",
      CALLBACK_SECRET: "short-secret",
    });
    const message = new ConfigError(issues).message;
    expect(message).toContain("DATABASE_URL");
    expect(message).toContain("CALLBACK_SECRET");
    expect(message).not.toContain("hunter2");
    expect(message).not.toContain("short-secret");
  });
});

describe("cross-field checks", () => {
  it("wants POLL_BASE_MS ≤ POLL_MAX_MS", () => {
    expect(issuesOf(workerEnv, { POLL_BASE_MS: "5000", POLL_MAX_MS: "1000" })).toEqual([
      { variable: "POLL_BASE_MS", message: expect.stringContaining("POLL_MAX_MS (1000)") },
    ]);
    // Against the default maximum too.
    expect(variables(issuesOf(workerEnv, { POLL_BASE_MS: "60000" }))).toEqual(["POLL_BASE_MS"]);
    expect(issuesOf(workerEnv, { POLL_BASE_MS: "1000", POLL_MAX_MS: "1000" })).toEqual([]);
  });

  it("wants SUBMIT_RETRY_BASE_MS ≤ SUBMIT_RETRY_MAX_MS", () => {
    expect(
      issuesOf(workerEnv, { SUBMIT_RETRY_BASE_MS: "90000", SUBMIT_RETRY_MAX_MS: "60000" }),
    ).toEqual([
      {
        variable: "SUBMIT_RETRY_BASE_MS",
        message: expect.stringContaining("SUBMIT_RETRY_MAX_MS (60000)"),
      },
    ]);
    expect(issuesOf(workerEnv, { SUBMIT_MAX_ATTEMPTS: "0" })).toMatchObject([
      { variable: "SUBMIT_MAX_ATTEMPTS" },
    ]);
  });

  it("skips a check whose variables the service does not read", () => {
    // The API has no poll settings: nothing to cross-check there.
    expect(issuesOf(apiEnv, { POLL_BASE_MS: "50000" })).toEqual([]);
  });
});

describe("production", () => {
  it("wants CALLBACK_SECRET set, and not to the development one", () => {
    expect(issuesOf(apiEnv, { NODE_ENV: "production" })).toEqual([
      { variable: "CALLBACK_SECRET", message: expect.stringContaining("production") },
    ]);
    expect(
      variables(issuesOf(apiEnv, { NODE_ENV: "production", CALLBACK_SECRET: DEV_CALLBACK_SECRET })),
    ).toEqual(["CALLBACK_SECRET"]);
    expect(issuesOf(apiEnv, production)).toEqual([]);
    // Development keeps working without one.
    expect(issuesOf(apiEnv, {})).toEqual([]);
  });
});

describe("the error", () => {
  it("names every bad variable in one message", () => {
    const source = {
      NODE_ENV: "production",
      DATABASE_URL: "localhost:5432",
      REDIS_URL: "localhost:6379",
      PUBLIC_CALLBACK_URL: "localhost:3001",
      POLL_BASE_MS: "40000",
      WORKER_CONCURRENCY: "many",
    };
    let error: unknown;
    try {
      loadEnv(workerEnv, source);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { issues, message } = error as ConfigError;
    expect(variables(issues)).toEqual([
      "CALLBACK_SECRET",
      "DATABASE_URL",
      "POLL_BASE_MS",
      "PUBLIC_CALLBACK_URL",
      "REDIS_URL",
      "WORKER_CONCURRENCY",
    ]);
    expect(message.split("\n")[0]).toBe("Invalid configuration:");
    for (const { variable } of issues) expect(message).toContain(`\n  ${variable}: `);
  });
});
