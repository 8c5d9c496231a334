import { createHmac, timingSafeEqual } from "node:crypto";
import type { ProviderName, TaskOutput } from "@ripen/db";
import type { ImageInput } from "./models";
import type { TaskOutcome } from "./tasks";

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface SubmitRequest {
  taskId: string;
  model: string;
  input: ImageInput;
  /** Where the provider should POST the outcome; null when callbacks are not wanted. */
  callbackUrl: string | null;
}

export type ProviderTaskState =
  | { state: "pending" | "running" }
  | { state: "succeeded"; output: TaskOutput }
  | { state: "failed"; errorCode: string; errorMessage: string };

/**
 * What the worker and the callback receiver need from an upstream. Methods throw ProviderError
 * (with `retryable`) for upstream failures.
 */
export interface ProviderAdapter {
  readonly name: ProviderName;
  submit(request: SubmitRequest): Promise<{ providerTaskId: string; upstreamCost?: number }>;
  status(providerTaskId: string): Promise<ProviderTaskState>;
  /** Parses a callback body; throws InvalidRequest when it is not one. */
  parseCallback(body: unknown): { providerTaskId: string } & ProviderTaskState;
}

/** A missing provider fails to compile. */
export type ProviderRegistry = Record<ProviderName, ProviderAdapter>;

/** The per-task credential in the callback URL; providers do not sign their callbacks. */
export function callbackToken(secret: string, taskId: string): string {
  return createHmac("sha256", secret).update(taskId).digest("base64url");
}

export function verifyCallbackToken(secret: string, taskId: string, presented: string): boolean {
  const expected = Buffer.from(callbackToken(secret, taskId));
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function callbackUrlFor(
  baseUrl: string,
  secret: string,
  provider: ProviderName,
  taskId: string,
): string {
  const base = baseUrl.replace(/\/+$/, "");
  return `${base}/callbacks/${provider}/${encodeURIComponent(taskId)}/${callbackToken(secret, taskId)}`;
}

/** The terminal outcome an upstream state implies, or null while the upstream is still working. */
export function outcomeOf(state: ProviderTaskState): TaskOutcome | null {
  switch (state.state) {
    case "pending":
    case "running":
      return null;
    case "succeeded":
      return { status: "succeeded", output: state.output };
    case "failed":
      return { status: "failed", errorCode: state.errorCode, errorMessage: state.errorMessage };
  }
}
