/**
 * The clients: each create is sent at its time in the schedule, and sent again, unchanged and
 * with the same `Idempotency-Key`, while it is unanswered (no answer, a timeout, a 5xx), with
 * backoff, until it is answered. A refusal at admission (429 `capacity_exceeded`) is counted and
 * not retried; any other 4xx is a client error, counted and printed.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, request } from "undici";
import type { CreateRequest } from "./mix";
import { log } from "./stack";

export type Outcome =
  | { state: "acknowledged"; taskId?: string; batchId?: string; total?: number }
  | { state: "refused" | "client_error"; status: number; code: string; message: string }
  | { state: "unanswered"; error: string };

export interface CreateResult {
  create: CreateRequest;
  outcome: Outcome;
  /** Requests sent for it, retries included. */
  tries: number;
}

export interface LoadOptions {
  apiUrl: string;
  /** API keys; create i uses key i mod their number (each its own account). */
  keys: string[];
  /** Tasks offered per second. */
  rate: number;
  concurrency: number;
  /** A create unanswered this long (every try included) is given up. */
  giveUpMs: number;
}

const REQUEST_TIMEOUT_MS = 15_000;

/**
 * The clients' connections, kept alive. undici's `request` rather than `fetch`: a profile of a
 * 6,000-task run had the runner busy for 17% of it, about half of that in fetch's own work (web
 * streams, a timeout signal per call), on the two cores Ripen's services are measured on.
 */
let clientAgent: Agent | undefined;
const agent = () => {
  clientAgent ??= new Agent({ keepAliveTimeout: 30_000 });
  return clientAgent;
};

/** The door's own envelope, read for its code and message. */
function errorOf(body: unknown): { code: string; message: string } {
  const b = body as {
    error?: { code?: unknown; message?: unknown };
    code?: unknown;
    msg?: unknown;
  } | null;
  if (b?.error) return { code: String(b.error.code), message: String(b.error.message ?? "") };
  if (b && b.code !== undefined) return { code: String(b.code), message: String(b.msg ?? "") };
  return { code: "?", message: JSON.stringify(body)?.slice(0, 200) ?? "" };
}

/** What a 2xx acknowledged: the task (or batch) id in the door's own shape. */
function acknowledged(create: CreateRequest, body: unknown): Outcome | undefined {
  const b = body as {
    success?: boolean;
    code?: number;
    data?: { taskId?: string; task_id?: string; id?: string; total?: number };
  } | null;
  switch (create.door) {
    case "native":
      return b?.data?.taskId ? { state: "acknowledged", taskId: b.data.taskId } : undefined;
    case "nanobanana":
      return b?.success && b.data?.task_id
        ? { state: "acknowledged", taskId: b.data.task_id }
        : undefined;
    case "kie":
    case "revid":
      return b?.code === 200 && b.data?.taskId
        ? { state: "acknowledged", taskId: b.data.taskId }
        : undefined;
    case "batch":
      return b?.data?.id
        ? { state: "acknowledged", batchId: b.data.id, total: b.data.total }
        : undefined;
  }
}

/** No provider can start it before its deadline: native says so by code, the doors in words. */
const isCapacityRefusal = (status: number, error: { code: string; message: string }) =>
  status === 429 &&
  (error.code === "capacity_exceeded" || error.message.startsWith("No provider can start"));

async function send(
  options: LoadOptions,
  create: CreateRequest,
): Promise<{ outcome: Outcome } | { retryAfterMs: number; error: string }> {
  const key = options.keys[create.index % options.keys.length]!;
  const auth: Record<string, string> =
    create.door === "revid" ? { "x-api-key": key } : { authorization: `Bearer ${key}` };
  let status: number;
  let retryAfterHeader: string | string[] | undefined;
  let text: string;
  try {
    const response = await request(`${options.apiUrl}${create.path}`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", "idempotency-key": create.key },
      body: JSON.stringify(create.body),
      dispatcher: agent(),
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    status = response.statusCode;
    retryAfterHeader = response.headers["retry-after"];
    text = await response.body.text();
  } catch (error) {
    return { retryAfterMs: 0, error: (error as { code?: string }).code ?? (error as Error).name };
  }
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Read as an error below.
  }
  if (status >= 500) {
    const retryAfter = Number(retryAfterHeader);
    const retryAfterMs = Number.isFinite(retryAfter) ? Math.min(retryAfter, 10) * 1000 : 0;
    return { retryAfterMs, error: `${status} ${errorOf(body).code}` };
  }
  if (status >= 200 && status < 300) {
    const outcome = acknowledged(create, body);
    if (outcome) return { outcome };
    const unreadable = errorOf(body);
    return {
      outcome: {
        state: "client_error",
        status,
        code: `unreadable ${unreadable.code}`,
        message: unreadable.message,
      },
    };
  }
  const error = errorOf(body);
  return {
    outcome: {
      state: isCapacityRefusal(status, error) ? "refused" : "client_error",
      status,
      ...error,
    },
  };
}

/** Sends one create until it is answered (or given up), with backoff between tries. */
async function createUntilAnswered(
  options: LoadOptions,
  create: CreateRequest,
): Promise<CreateResult> {
  const giveUpAt = Date.now() + options.giveUpMs;
  for (let tries = 1; ; tries++) {
    const sent = await send(options, create);
    if ("outcome" in sent) return { create, outcome: sent.outcome, tries };
    if (Date.now() > giveUpAt) {
      return { create, outcome: { state: "unanswered", error: sent.error }, tries };
    }
    const backoff = Math.min(5_000, 200 * 2 ** Math.min(tries - 1, 5));
    await sleep(Math.max(sent.retryAfterMs, backoff * (0.5 + Math.random() / 2)));
  }
}

/**
 * Sends the creates at `rate` tasks a second (a batch counts its items), at most `concurrency`
 * at once; resolves with every create's result once all are answered or given up.
 */
export async function runLoad(
  options: LoadOptions,
  creates: readonly CreateRequest[],
): Promise<CreateResult[]> {
  const results: CreateResult[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let offered = 0;
  const progress = setInterval(() => {
    const by = (state: Outcome["state"]) => results.filter((r) => r.outcome.state === state).length;
    log(
      `load: ${results.length}/${creates.length} creates answered (acknowledged ${by("acknowledged")}, refused ${by("refused")}, client errors ${by("client_error")}, unanswered ${by("unanswered")}), ${inFlight.size} in flight`,
    );
  }, 10_000);
  try {
    for (const create of creates) {
      const due = started + (offered / options.rate) * 1000;
      offered += create.models.length;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
      const running: Promise<void> = createUntilAnswered(options, create).then((result) => {
        results.push(result);
        inFlight.delete(running);
      });
      inFlight.add(running);
    }
    await Promise.all(inFlight);
  } finally {
    clearInterval(progress);
  }
  return results;
}
