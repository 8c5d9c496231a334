import { describe, expect, it } from "vitest";
import { callbackToken, callbackUrlFor, verifyCallbackToken } from "./provider";

describe("callback tokens", () => {
  const secret = "a-secret-of-enough-length";

  it("names the attempt it was made for, and verifies for that task only", () => {
    const token = callbackToken(secret, "task_1", 2);
    expect(token.startsWith("2.")).toBe(true);
    expect(verifyCallbackToken(secret, "task_1", token)).toBe(2);
    expect(verifyCallbackToken(secret, "task_2", token)).toBeNull();
    expect(verifyCallbackToken("another-secret-entirely", "task_1", token)).toBeNull();
  });

  it("refuses a token whose attempt number was changed, truncated or garbled", () => {
    const token = callbackToken(secret, "task_1", 1);
    const mac = token.slice(2);
    expect(verifyCallbackToken(secret, "task_1", `2.${mac}`)).toBeNull();
    expect(verifyCallbackToken(secret, "task_1", token.slice(0, -1))).toBeNull();
    expect(verifyCallbackToken(secret, "task_1", "")).toBeNull();
    expect(verifyCallbackToken(secret, "task_1", `01.${mac}`)).toBeNull();
    expect(verifyCallbackToken(secret, "task_1", `1.${mac}\u0000`)).toBeNull();
  });

  it("gives each attempt of a task its own URL", () => {
    const first = callbackUrlFor("https://cb.example/", secret, "aivideoapi", "task_1", 1);
    const second = callbackUrlFor("https://cb.example/", secret, "aivideoapi", "task_1", 2);
    expect(first).toBe(
      `https://cb.example/callbacks/aivideoapi/task_1/${callbackToken(secret, "task_1", 1)}`,
    );
    expect(second).not.toBe(first);
  });
});
