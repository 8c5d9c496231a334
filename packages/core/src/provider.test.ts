import { describe, expect, it } from "vitest";
import { callbackToken, callbackUrlFor, verifyCallbackToken } from "./provider";

describe("callback tokens", () => {
  const secret = "a-secret-of-enough-length";

  it("verifies the token made for the task, and no other", () => {
    const token = callbackToken(secret, "task_1");
    expect(verifyCallbackToken(secret, "task_1", token)).toBe(true);
    expect(verifyCallbackToken(secret, "task_2", token)).toBe(false);
    expect(verifyCallbackToken("another-secret-entirely", "task_1", token)).toBe(false);
    expect(verifyCallbackToken(secret, "task_1", token.slice(1))).toBe(false);
    expect(verifyCallbackToken(secret, "task_1", "")).toBe(false);
  });

  it("builds the per-task callback URL", () => {
    expect(callbackUrlFor("https://cb.example/", secret, "aivideoapi", "task_1")).toBe(
      `https://cb.example/callbacks/aivideoapi/task_1/${callbackToken(secret, "task_1")}`,
    );
  });
});
