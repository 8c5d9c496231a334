import {
  type Clock,
  DELIVERY_EXCERPT_BYTES,
  DELIVERY_SCHEDULE_MS,
  deliveryDueAt,
  findDelivery,
  finishDeliveryTry,
  giveUpDelivery,
  lastDeliveryTry,
  signingSecrets,
  startDeliveryTry,
  type TryResult,
} from "@ripen/core";
import type { Delivery, Executor } from "@ripen/db";
import { deliveries } from "@ripen/metrics";
import type { JobPayload } from "@ripen/queue";
import { inTaskSpan } from "@ripen/telemetry";
import { DelayedError, type Job } from "bullmq";
import type { Logger } from "pino";
import { Webhook } from "standardwebhooks";

export interface DeliverDeps {
  db: Executor;
  clock: Clock;
  logger: Logger;
  /**
   * How a client endpoint is called: `createUserUrlFetch` from `@ripen/net` in every service, so
   * a callback URL reaches no private, loopback (unless allowed) or metadata address, whatever
   * its name resolves to when the try connects.
   */
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  /** How long one try may take, answer included (15 s). */
  timeoutMs?: number;
  /** The wait before each try of a round (`DELIVERY_SCHEDULE_MS`); tests may shorten it. */
  schedule?: readonly number[];
}

export const DELIVERY_TIMEOUT_MS = 15_000;

/** Headers every try sends: the dialect's own and Standard Webhooks', all signed together. */
export function deliveryHeaders(
  delivery: Pick<Delivery, "id" | "event" | "taskId" | "body"> & {
    batchId?: string | null;
  },
  secrets: readonly string[],
  at: Date,
): Record<string, string> {
  const seconds = String(Math.floor(at.getTime() / 1000));
  // One `v1,…` per secret that signs now (the current one, and the previous one in its overlap).
  const signature = secrets
    .map((secret) => new Webhook(secret).sign(delivery.id, at, delivery.body))
    .join(" ");
  return {
    "content-type": "application/json",
    "user-agent": "Ripen-Webhooks/1",
    "x-event": delivery.event,
    "x-task-id": delivery.taskId ?? "",
    // A batch's callback (`batch.completed`) names its batch; it has no task.
    ...(delivery.batchId ? { "x-batch-id": delivery.batchId } : {}),
    "x-timestamp": seconds,
    "webhook-id": delivery.id,
    "webhook-timestamp": seconds,
    "webhook-signature": signature,
  };
}

/** The first `DELIVERY_EXCERPT_BYTES` of an answer, as storable text; the rest is not read. */
async function excerptOf(response: Response): Promise<string | null> {
  if (!response.body) return null;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < DELIVERY_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // The answer broke off or timed out mid-body: keep what came.
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = Buffer.concat(chunks).subarray(0, DELIVERY_EXCERPT_BYTES);
  if (bytes.byteLength === 0) return null;
  // Postgres text holds no NUL; invalid UTF-8 (or a character cut at the limit) becomes U+FFFD.
  return new TextDecoder().decode(bytes).replaceAll("\u0000", "\uFFFD");
}

/** Why a try got no answer: the error and its causes, e.g. "fetch failed: connect ECONNREFUSED …". */
function describeFailure(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: string })?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return `No answer within ${timeoutMs} ms (timed out).`;
  }
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const message = (current as { message?: unknown }).message;
    const text = typeof message === "string" ? message : String(current);
    if (text && !messages.includes(text)) messages.push(text);
    current = (current as { cause?: unknown }).cause;
  }
  return (messages.join(": ") || "The request failed.").replaceAll("\u0000", "").slice(0, 500);
}

/**
 * One try: POST the stored body to the URL with its headers, at most `timeoutMs` for the answer
 * and its first bytes. Redirects are not followed (a 3xx is the try's answer, retried like any
 * non-2xx): a signed callback goes to the URL the client gave, nowhere else.
 */
export async function sendDelivery(
  deps: Pick<DeliverDeps, "fetch" | "timeoutMs">,
  delivery: Pick<Delivery, "id" | "event" | "taskId" | "body" | "url"> & {
    batchId?: string | null;
  },
  secrets: readonly string[],
  at: Date,
): Promise<TryResult> {
  const timeoutMs = deps.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const startedAt = performance.now();
  const latency = () => Math.round(performance.now() - startedAt);
  try {
    const response = await deps.fetch(delivery.url, {
      method: "POST",
      headers: deliveryHeaders(delivery, secrets, at),
      body: delivery.body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const excerpt = await excerptOf(response);
    return { status: response.status, latencyMs: latency(), error: null, excerpt };
  } catch (error) {
    return {
      status: null,
      latencyMs: latency(),
      error: describeFailure(error, timeoutMs),
      excerpt: null,
    };
  }
}

/** Parks the job in BullMQ's delayed set for `delayMs`, as the task job does between polls. */
async function park(job: Job, token: string | undefined, delayMs: number): Promise<never> {
  await job.moveToDelayed(Date.now() + Math.max(0, Math.ceil(delayMs)), token);
  throw new DelayedError();
}

/**
 * The `delivery.send` step job. It reads the delivery and acts on its state, so a second run, a
 * run re-added by the sweep or one woken early is harmless: an ended delivery is left alone, a try
 * not yet due parks the job until it is (the schedule is read from the delivery's log with the
 * injected clock), and a due one is claimed before it is sent, so two runs never send the same
 * try. After a try the job parks itself until the next one, or ends with the delivery.
 */
export function createDeliver(deps: DeliverDeps) {
  const schedule = deps.schedule ?? DELIVERY_SCHEDULE_MS;
  const timeoutMs = deps.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  return async function deliver(
    job: Job<JobPayload<"delivery.send">>,
    token?: string,
  ): Promise<void> {
    const delivery = await findDelivery(deps.db, job.data.deliveryId);
    if (delivery?.state !== "pending") return;
    const fields = {
      taskId: delivery.taskId,
      ...(delivery.batchId ? { batchId: delivery.batchId } : {}),
      accountId: delivery.accountId,
      deliveryId: delivery.id,
    };

    const now = deps.clock.now();
    const lastTry = delivery.tries > 0 ? await lastDeliveryTry(deps.db, delivery.id) : null;
    const dueAt = deliveryDueAt(delivery, lastTry, schedule, now);
    if (dueAt === null) {
      // The round's last try never recorded its answer (its worker died): it counts as failed.
      await giveUpDelivery(deps.db, delivery.id, now);
      deps.logger.warn(
        { event: "delivery.failed", ...fields, status: null, try: lastTry?.number, final: true },
        "delivery failed: its schedule ran out",
      );
      return;
    }
    if (dueAt > now) return park(job, token, dueAt.getTime() - now.getTime());

    // Read before the try is claimed: a database error here leaves the try unspent.
    const secrets = await signingSecrets(deps.db, delivery.accountId, now);
    const started = await startDeliveryTry(deps.db, {
      deliveryId: delivery.id,
      expectedTries: delivery.tries,
      now,
      leaseMs: timeoutMs + 5_000,
    });
    if (!started) return;
    const send = () => sendDelivery({ fetch: deps.fetch, timeoutMs }, delivery, secrets, now);
    // A task's client callback is in its trace (a schedule run's has no task).
    const result = delivery.taskId
      ? await inTaskSpan("task.delivery", delivery.taskId, { "ripen.try": started.number }, send)
      : await send();
    const finished = await finishDeliveryTry(deps.db, {
      started,
      result,
      schedule,
      now: deps.clock.now(),
    });

    const line = {
      ...fields,
      status: result.status,
      try: started.number,
      latencyMs: result.latencyMs,
    };
    // A try that failed but will be tried again is "retrying"; "failed" is the last one.
    deliveries.inc({
      outcome: finished.state === "pending" ? "retrying" : finished.state,
      attempt: started.number > 10 ? "10+" : String(started.number),
    });
    if (finished.state === "succeeded") {
      deps.logger.info({ event: "delivery.sent", ...line }, "delivery sent");
    } else if (finished.state === "gone") {
      deps.logger.warn(
        { event: "delivery.gone", ...line },
        "client answered 410 Gone; delivery stopped",
      );
    } else {
      deps.logger.warn(
        {
          event: "delivery.failed",
          ...line,
          err: result.error ?? undefined,
          final: finished.state === "failed",
          nextTryAt: finished.nextTryAt?.toISOString(),
        },
        finished.state === "failed"
          ? "delivery failed: its schedule ran out"
          : "delivery try failed",
      );
    }
    if (finished.state === "pending" && finished.nextTryAt) {
      return park(job, token, finished.nextTryAt.getTime() - deps.clock.now().getTime());
    }
  };
}
