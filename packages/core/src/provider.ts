import { createHmac, timingSafeEqual } from "node:crypto";
import type { FailureKind, ProviderName, TaskOutput } from "@ripen/db";
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

/** What the upstream says of a task it accepted. `not_found`: it no longer knows the task. */
export type ProviderTaskState =
  | { state: "pending" | "running" | "not_found" }
  | { state: "succeeded"; output: TaskOutput }
  | { state: "failed"; errorCode: string; errorMessage: string };

/**
 * What the worker and the callback receiver need from an upstream. Methods throw ProviderError,
 * whose `kind` says how the failure is handled.
 */
export interface ProviderAdapter {
  readonly name: ProviderName;
  /** What the upstream charges for this request, by its own documented price list. */
  upstreamCost(model: string, input: ImageInput): number;
  /** The model's name upstream. */
  upstreamModel(model: string): string;
  submit(request: SubmitRequest): Promise<{ providerTaskId: string }>;
  status(providerTaskId: string): Promise<ProviderTaskState>;
  /** Parses a callback body; throws InvalidRequest when it is not one. */
  parseCallback(body: unknown): { providerTaskId: string } & ProviderTaskState;
}

/** A missing provider fails to compile. */
export type ProviderRegistry = Record<ProviderName, ProviderAdapter>;

const mac = (secret: string, taskId: string, attempt: number) =>
  createHmac("sha256", secret).update(`${taskId}:${attempt}`).digest("base64url");

/**
 * The per-attempt credential in the callback URL (providers do not sign their callbacks):
 * `{attempt}.{HMAC(secret, taskId:attempt)}`, so a callback names the attempt it belongs to and
 * one attempt's URL cannot settle another.
 */
export function callbackToken(secret: string, taskId: string, attempt: number): string {
  return `${attempt}.${mac(secret, taskId, attempt)}`;
}

/** The attempt number a presented token was made for, or null if it is not one of ours. */
export function verifyCallbackToken(
  secret: string,
  taskId: string,
  presented: string,
): number | null {
  const match = /^([1-9][0-9]{0,5})\.([A-Za-z0-9_-]{43})$/.exec(presented);
  if (!match) return null;
  const attempt = Number(match[1]);
  const expected = Buffer.from(mac(secret, taskId, attempt));
  const given = Buffer.from(match[2]!);
  return expected.length === given.length && timingSafeEqual(expected, given) ? attempt : null;
}

export function callbackUrlFor(
  baseUrl: string,
  secret: string,
  provider: ProviderName,
  taskId: string,
  attempt: number,
): string {
  const base = baseUrl.replace(/\/+$/, "");
  return `${base}/callbacks/${provider}/${encodeURIComponent(taskId)}/${callbackToken(secret, taskId, attempt)}`;
}

/** The terminal outcome an upstream state implies, or null while the upstream is still working. */
export function outcomeOf(state: ProviderTaskState): TaskOutcome | null {
  switch (state.state) {
    case "pending":
    case "running":
    case "not_found":
      return null;
    case "succeeded":
      return { status: "succeeded", output: state.output };
    case "failed":
      return { status: "failed", errorCode: state.errorCode, errorMessage: state.errorMessage };
  }
}

export type { FailureKind };
