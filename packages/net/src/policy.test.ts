import { apiEnv, ConfigError, loadEnv, workerEnv } from "@ripen/config";
import { describe, expect, it } from "vitest";
import { userUrlPolicyOf } from "./index";

const production = { NODE_ENV: "production", CALLBACK_SECRET: "a-production-secret-0123456789" };

function policyFor(source: Record<string, string>) {
  const warnings: string[] = [];
  const policy = userUrlPolicyOf(loadEnv(apiEnv, source), {
    warn: (_fields, message) => warnings.push(message),
  });
  return { policy, warnings };
}

describe("USER_URLS_ALLOW_LOOPBACK", () => {
  it("is off unless set (every service but npm start, which defaults it on)", () => {
    expect(policyFor({})).toEqual({ policy: { allowLoopback: false }, warnings: [] });
    expect(loadEnv(workerEnv, {}).USER_URLS_ALLOW_LOOPBACK).toBe(false);
    expect(policyFor({ USER_URLS_ALLOW_LOOPBACK: "" }).policy.allowLoopback).toBe(false);
  });

  it("is on when set to true, quietly outside production", () => {
    expect(policyFor({ USER_URLS_ALLOW_LOOPBACK: "true" })).toEqual({
      policy: { allowLoopback: true },
      warnings: [],
    });
  });

  it("may be on in production, with a warning at start", () => {
    const { policy, warnings } = policyFor({ ...production, USER_URLS_ALLOW_LOOPBACK: "true" });
    expect(policy.allowLoopback).toBe(true);
    expect(warnings).toEqual([
      expect.stringContaining("USER_URLS_ALLOW_LOOPBACK=true in production"),
    ]);
    expect(policyFor({ ...production, USER_URLS_ALLOW_LOOPBACK: "false" }).warnings).toEqual([]);
  });

  it("refuses anything but true or false at start", () => {
    expect(() => loadEnv(apiEnv, { USER_URLS_ALLOW_LOOPBACK: "yes" })).toThrow(ConfigError);
    expect(() => loadEnv(apiEnv, { USER_URLS_ALLOW_LOOPBACK: "1" })).toThrow(
      /USER_URLS_ALLOW_LOOPBACK: must be "true" or "false" \(got "1"\)/,
    );
  });
});
