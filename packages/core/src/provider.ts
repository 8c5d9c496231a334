import { createHmac, timingSafeEqual } from "node:crypto";
import type { DialectName, FailureKind, ProviderId, TaskOutput } from "@ripen/db";
import type { TaskOutcome } from "./task-ending/outcomes";

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** One submission to an upstream, already in the provider's own terms. */
export interface UpstreamRequest {
  /** Ripen's task id, for logs; never sent as the upstream's id. */
  taskId: string;
  /** The model's name upstream, e.g. `google/nano-banana` or `nano-banana-2-text-to-image`. */
  upstreamModel: string;
  /** The dialect's own input fields, as the model's route translated them. */
  input: Record<string, unknown>;
  /** Where the provider should POST the outcome; null when callbacks are not wanted. */
  callbackUrl: string | null;
}

/** What the upstream says of a task it accepted. `not_found`: it no longer knows the task. */
export type ProviderTaskState =
  | { state: "pending" | "running" | "not_found" }
  | { state: "succeeded"; output: TaskOutput }
  | { state: "failed"; errorCode: string; errorMessage: string; kind?: FailureKind };

/**
 * Ripen as a client of one dialect, bound to one provider's base URL and key. Methods throw
 * ProviderError, whose `kind` says how the failure is handled. A `failed` state may carry a
 * kind too (content filtered: `fail`; the upstream's own outage: `failover`).
 */
export interface DialectClient {
  readonly dialect: DialectName;
  /** Whether the dialect posts results to a callback URL; without, tasks complete by polling. */
  readonly sendsCallbacks: boolean;
  submit(request: UpstreamRequest): Promise<{ providerTaskId: string }>;
  /** `upstreamModel` tells dialects with separate image and video endpoints which to ask. */
  status(providerTaskId: string, upstreamModel: string): Promise<ProviderTaskState>;
  /** Parses a callback body; throws InvalidRequest when it is not one. */
  parseCallback(body: unknown): { providerTaskId: string } & ProviderTaskState;
}

/** What every dialect's client is built from: one provider's address and key. */
export interface DialectClientOptions {
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

/**
 * A dialect's documented price list: what the upstream charges, in its own credits, for a
 * request in its own fields; undefined when the document gives no figure for it.
 */
export type DocumentedCost = (
  upstreamModel: string,
  input: Record<string, unknown>,
) => number | undefined;

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
  provider: ProviderId,
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
