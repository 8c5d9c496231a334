import {
  BatchNotFound,
  type BatchSummary,
  batchItems,
  batchView,
  type Clock,
  type CreateBatchArgs,
  cancelBatch,
  createBatch,
  createBatchOnce,
  getBatchForAccount,
  getBatchSummary,
  InvalidRequest,
  idempotencyRequestHash,
  isIdOf,
  listBatches,
  type Principal,
  parseIdempotencyKey,
  prepareBatch,
  type TaskEnder,
  type TaskOrder,
} from "@ripen/core";
import type { Batch, Executor, Task } from "@ripen/db";
import { createTaskRequest } from "@ripen/dialect-aivideoapi";
import { countTasksCreated } from "@ripen/metrics";
import { getModel } from "@ripen/models";
import type { UrlPolicy } from "@ripen/net";
import { type AdmissionControl, admitBatch } from "@ripen/providers";
import type { Request, Response, Router } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { orUnavailable } from "../doors/database-down";
import { checkCreateUrls } from "../doors/user-urls";
import { decodeCursor, encodeCursor } from "./cursor";
import { nativeEnvelope, unixTime } from "./envelope";

export interface BatchRouteDeps {
  db: Executor;
  logger: Logger;
  clock: Clock;
  enqueue(task: TaskOrder): Promise<void>;
  enqueueBatch?(tasks: readonly TaskOrder[]): Promise<void>;
  /** Ends the canceled items and does what follows each chunk's commit. */
  ender: TaskEnder;
  userUrls?: UrlPolicy;
  /** Admission control: a batch no provider can start in time is refused (429). */
  capacity?: AdmissionControl;
}

const createParams = new Set(["requests", "partial", "callback_url"]);

/** A batch create's own fields, checked (its items are checked by `prepareBatch`). */
export interface BatchBody {
  requests: unknown[];
  partial: boolean;
  callbackUrl: string | null;
}

/** The body of `POST /v1/batches` (and of a batch quote, `POST /v1/cost`); 400 naming the field. */
export function batchBodyOf(body: unknown): BatchBody {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidRequest("Request body must be a JSON object.");
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((name) => !createParams.has(name));
  if (unknown !== undefined) {
    throw new InvalidRequest(
      `'${unknown.slice(0, 64)}' is not a batch field (use requests, partial, callback_url).`,
      unknown.slice(0, 64),
    );
  }
  if (!Array.isArray(fields.requests)) {
    throw new InvalidRequest("'requests' must be an array of create bodies.", "requests");
  }
  if (fields.partial !== undefined && typeof fields.partial !== "boolean") {
    throw new InvalidRequest("'partial' must be true or false.", "partial");
  }
  if (
    fields.callback_url !== undefined &&
    fields.callback_url !== null &&
    typeof fields.callback_url !== "string"
  ) {
    throw new InvalidRequest("'callback_url' must be a string.", "callback_url");
  }
  return {
    requests: fields.requests,
    partial: fields.partial === true,
    callbackUrl: (fields.callback_url as string | null | undefined) ?? null,
  };
}

export const BATCH_LIST_LIMIT_DEFAULT = 20;
export const BATCH_LIST_LIMIT_MAX = 100;

export function batchIdOf(req: Request): string {
  const batchId = req.params.batchId as string;
  // Anything newId could not have made cannot exist: answered without a query.
  if (!isIdOf("batch", batchId)) throw new BatchNotFound(batchId);
  return batchId;
}

/** The cursor of `GET /v1/batches`: `[created_at ISO, batch id]`, opaque to clients. */
const encodeBatchCursor = (position: { createdAt: Date; id: string }) =>
  encodeCursor(position.createdAt.toISOString(), position.id);

function decodeBatchCursor(cursor: string): { createdAt: Date; id: string } {
  const [createdAt, id] = decodeCursor(
    cursor,
    (position, batchId) => Number.isFinite(Date.parse(position)) && isIdOf("batch", batchId),
  );
  return { createdAt: new Date(createdAt), id };
}

const unixSeconds = (date: Date | null) => (date ? Math.floor(date.getTime() / 1000) : null);

/** A batch in a list: its row only (counts and credits are read per batch, at its own URL). */
function batchListView(batch: Batch) {
  return {
    id: batch.id,
    object: "batch" as const,
    state: batch.state,
    total: batch.total,
    callback_url: batch.callbackUrl,
    schedule_run_id: batch.scheduleRunId,
    created_at: unixSeconds(batch.createdAt),
    ended_at: unixSeconds(batch.endedAt),
  };
}

/** One line of a batch's results: the item's index (submission order), id, status, output. */
export interface BatchResultLine {
  index: number;
  task_id: string;
  model: string;
  /** Ripen's status: queued, submitting, running, succeeded, failed, canceled or expired. */
  status: Task["status"];
  price: number;
  output_urls: string[];
  error_code: string | null;
  error_message: string | null;
}

export function resultLineOf(index: number, task: Task): BatchResultLine {
  return {
    index,
    task_id: task.id,
    model: task.model,
    status: task.status,
    price: task.price,
    output_urls: task.status === "succeeded" ? (task.output?.urls ?? []) : [],
    error_code: task.errorCode,
    error_message: task.errorMessage,
  };
}

export const CSV_COLUMNS = [
  "index",
  "task_id",
  "model",
  "status",
  "price",
  "output_urls",
  "error_code",
  "error_message",
] as const;

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
export function csvField(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A results line as a CSV record (output URLs separated by spaces), CRLF-terminated. */
export function csvLine(line: BatchResultLine): string {
  return `${[
    line.index,
    line.task_id,
    line.model,
    line.status,
    line.price,
    line.output_urls.join(" "),
    line.error_code,
    line.error_message,
  ]
    .map(csvField)
    .join(",")}\r\n`;
}

/** Writes `chunk`, waiting for the socket to drain when its buffer is full (backpressure). */
async function write(res: Response, chunk: string): Promise<void> {
  if (res.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      res.off("drain", onDrain);
      res.off("close", onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(new Error("the client closed the connection"));
    };
    res.on("drain", onDrain);
    res.on("close", onClose);
  });
}

/** A create's summary, known without reading it back: every item queued, every hold open. */
function createdSummary(batch: Batch, price: number): BatchSummary {
  return {
    id: batch.id,
    state: batch.state,
    total: batch.total,
    counts: {
      queued: batch.total,
      submitting: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      canceled: 0,
      expired: 0,
    },
    progress: 0,
    active: batch.total,
    succeeded: 0,
    failed: 0,
    credits: { held: price, captured: 0, released: 0, total: price },
    callbackUrl: batch.callbackUrl,
    scheduleRunId: batch.scheduleRunId,
    createdAt: batch.createdAt,
    endedAt: null,
    estimatedEndAt: batch.estimatedEndAt,
    elapsedMs: 0,
  };
}

/**
 * Batches: `POST /v1/batches` (up to 10,000 native create bodies, accepted in one transaction,
 * enqueued in bulk at a priority behind single creates), `GET /v1/batches` (newest first),
 * `GET /v1/batches/{id}` (counts, credits, progress, timing), `GET /v1/batches/{id}/results`
 * (JSONL or CSV, streamed in submission order) and `POST /v1/batches/{id}/cancel`. Its items are
 * ordinary tasks: `GET /v1/tasks?batch_id=` lists them, `POST /v1/tasks/{id}/cancel` cancels one.
 */
export function registerV1Batches(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: BatchRouteDeps,
): void {
  const userUrls = deps.userUrls ?? { allowLoopback: false };

  router.post("/v1/batches", async (req, res) => {
    const principal = principalOf(req);
    const fields = batchBodyOf(req.body);
    const idempotencyKey = parseIdempotencyKey(req.get("idempotency-key"));
    const startedAt = performance.now();
    const now = deps.clock.now();
    const args: CreateBatchArgs = {
      accountId: principal.accountId,
      apiKeyId: principal.keyId,
      ...fields,
      now,
      resolveModel: getModel,
      checkUrls: (callbackUrl, input) => checkCreateUrls(callbackUrl, input, userUrls),
      admit: (items) =>
        admitBatch(
          deps,
          { accountId: principal.accountId, door: "native" },
          items,
          deps.clock.now(),
          getModel,
        ),
    };
    const outcome = await orUnavailable(() =>
      idempotencyKey === undefined
        ? createBatch(deps.db, args).then((created) => ({ created }))
        : createBatchOnce(deps.db, args, {
            key: idempotencyKey,
            requestHash: idempotencyRequestHash("POST /v1/batches", req.body),
          }),
    );
    if ("replayOf" in outcome) {
      const summary = await orUnavailable(() =>
        getBatchSummary(deps.db, principal.accountId, outcome.replayOf, now),
      );
      deps.logger.info(
        {
          event: "batch.replayed",
          batchId: summary.id,
          accountId: principal.accountId,
          idempotencyKey,
        },
        "idempotent batch create answered with the batch its key made",
      );
      // The same body, checked again, refuses the same items (nothing is written by checking).
      const { rejected } = prepareBatch(args, now);
      res.json({
        code: 200,
        msg: "success",
        data: { ...batchView(summary), rejected },
      } satisfies z.input<typeof batchCreatedResponse>);
      return;
    }
    const { created } = outcome;
    const acceptMs = Math.round(performance.now() - startedAt);
    const { batch, taskIds, rejected } = created;
    const price = created.price;
    countTasksCreated(created.models, "native");
    deps.logger.info(
      {
        event: "batch.created",
        batchId: batch.id,
        accountId: batch.accountId,
        items: taskIds.length,
        rejected: rejected.length,
        price,
        acceptMs,
      },
      "batch created",
    );
    // After commit. A failure is recovered by the sweep (each item's next_wake_at).
    try {
      if (deps.enqueueBatch) await deps.enqueueBatch(created.items);
      else for (const item of created.items) await deps.enqueue(item);
    } catch (error) {
      deps.logger.warn(
        { err: (error as Error)?.message ?? error, batchId: batch.id },
        "batch enqueue failed; left to the sweep",
      );
    }
    res.json({
      code: 200,
      msg: "success",
      data: { ...batchView(createdSummary(batch, price)), rejected },
    } satisfies z.input<typeof batchCreatedResponse>);
  });

  router.get("/v1/batches", async (req, res) => {
    const principal = principalOf(req);
    const query = req.query as Record<string, unknown>;
    const unknown = Object.keys(query).find((name) => name !== "limit" && name !== "cursor");
    if (unknown !== undefined) {
      throw new InvalidRequest(
        `'${unknown.slice(0, 64)}' is not a recognized parameter (use limit, cursor).`,
        unknown.slice(0, 64),
      );
    }
    let limit = BATCH_LIST_LIMIT_DEFAULT;
    if (query.limit !== undefined) {
      limit = typeof query.limit === "string" && /^\d{1,3}$/.test(query.limit) ? +query.limit : 0;
      if (!(limit >= 1 && limit <= BATCH_LIST_LIMIT_MAX)) {
        throw new InvalidRequest(
          `'limit' must be a whole number from 1 to ${BATCH_LIST_LIMIT_MAX}.`,
          "limit",
        );
      }
    }
    if (query.cursor !== undefined && typeof query.cursor !== "string") {
      throw new InvalidRequest("'cursor' must be given once.", "cursor");
    }
    const after = query.cursor === undefined ? undefined : decodeBatchCursor(query.cursor);
    const page = await orUnavailable(() =>
      listBatches(deps.db, { accountId: principal.accountId, limit, after }),
    );
    res.json({
      code: 200,
      msg: "success",
      data: {
        batches: page.batches.map(batchListView),
        next_cursor: page.next ? encodeBatchCursor(page.next) : null,
      },
    });
  });

  router.get("/v1/batches/:batchId", async (req, res) => {
    const principal = principalOf(req);
    const batchId = batchIdOf(req);
    const summary = await orUnavailable(() =>
      getBatchSummary(deps.db, principal.accountId, batchId, deps.clock.now()),
    );
    res.json({
      code: 200,
      msg: "success",
      data: batchView(summary),
    } satisfies z.input<typeof batchResponse>);
  });

  router.get("/v1/batches/:batchId/results", async (req, res) => {
    const principal = principalOf(req);
    const batchId = batchIdOf(req);
    const format = req.query.format ?? "jsonl";
    if (format !== "jsonl" && format !== "csv") {
      throw new InvalidRequest("'format' must be jsonl or csv.", "format");
    }
    const batch = await orUnavailable(() =>
      getBatchForAccount(deps.db, principal.accountId, batchId),
    );
    res.status(200);
    res.setHeader(
      "content-type",
      format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
    );
    res.setHeader(
      "content-disposition",
      `attachment; filename="${batch.id}.${format === "csv" ? "csv" : "jsonl"}"`,
    );
    // Written as it is read, a keyset page of 1,000 items at a time: never the whole batch.
    try {
      if (format === "csv") await write(res, `${CSV_COLUMNS.join(",")}\r\n`);
      let index = 0;
      for await (const page of batchItems(deps.db, batch.id, 1_000)) {
        let chunk = "";
        for (const task of page) {
          const line = resultLineOf(index++, task);
          chunk += format === "csv" ? csvLine(line) : `${JSON.stringify(line)}\n`;
        }
        await write(res, chunk);
      }
      res.end();
    } catch (error) {
      // Headers are gone: a failure can only cut the stream short, which the client sees.
      deps.logger.warn(
        { err: (error as Error)?.message ?? error, batchId: batch.id },
        "batch results stream stopped",
      );
      res.destroy();
    }
  });

  router.post("/v1/batches/:batchId/cancel", async (req, res) => {
    const principal = principalOf(req);
    const batchId = batchIdOf(req);
    const result = await orUnavailable(() =>
      cancelBatch(deps.db, deps.ender, {
        accountId: principal.accountId,
        batchId,
        now: deps.clock.now(),
      }),
    );
    deps.logger.info(
      {
        event: "batch.canceled",
        batchId,
        accountId: principal.accountId,
        canceled: result.canceled.length,
      },
      "batch canceled",
    );
    res.json({ code: 200, msg: "success", data: batchView(result.summary) });
  });
}

/** `POST /v1/batches`'s body (checked by `batchBodyOf`, each item by `prepareBatch`). */
export const batchCreateRequest = z
  .strictObject({
    requests: z
      .array(createTaskRequest.extend({ kind: z.enum(["image", "video"]).optional() }))
      .min(1)
      .max(10_000),
    partial: z.boolean().optional(),
    callback_url: z.string().nullish(),
  })
  .meta({ id: "BatchCreateRequest" });

const taskCounts = z.object({
  queued: z.int(),
  submitting: z.int(),
  running: z.int(),
  succeeded: z.int(),
  failed: z.int(),
  canceled: z.int(),
  expired: z.int(),
});

export const batchSchema = z
  .object({
    id: z.string(),
    object: z.literal("batch"),
    state: z.string(),
    total: z.int(),
    counts: taskCounts,
    active: z.int(),
    succeeded: z.int(),
    failed: z.int(),
    progress: z.number(),
    credits: z.object({
      held: z.int(),
      captured: z.int(),
      released: z.int(),
      total: z.int(),
    }),
    callback_url: z.string().nullable(),
    schedule_run_id: z.string().nullable(),
    created_at: unixTime.nullable(),
    ended_at: unixTime.nullable(),
    estimated_end_at: unixTime.nullable().meta({
      description:
        "When its last item was projected, at creation, to have started under the providers' limits (admission control); its generation comes on top. Null without a projection.",
    }),
    elapsed_ms: z.number(),
  })
  .meta({ id: "Batch" });

const batchItemError = z.object({
  index: z.int(),
  field: z.string().optional(),
  code: z.string(),
  message: z.string(),
});

export const batchCreatedResponse = nativeEnvelope(
  batchSchema.extend({ rejected: z.array(batchItemError) }),
).meta({ id: "BatchCreated" });
export const batchResponse = nativeEnvelope(batchSchema).meta({ id: "BatchResponse" });

export const batchListResponse = nativeEnvelope(
  z.object({
    batches: z.array(
      z.object({
        id: z.string(),
        object: z.literal("batch"),
        state: z.string(),
        total: z.int(),
        callback_url: z.string().nullable(),
        schedule_run_id: z.string().nullable(),
        created_at: unixTime.nullable(),
        ended_at: unixTime.nullable(),
      }),
    ),
    next_cursor: z.string().nullable(),
  }),
).meta({ id: "BatchList" });

/** One JSONL line of `GET /v1/batches/{id}/results` (CSV: the same columns). */
export const batchResultLine = z
  .object({
    index: z.int(),
    task_id: z.string(),
    model: z.string(),
    status: z.string(),
    price: z.int(),
    output_urls: z.array(z.string()),
    error_code: z.string().nullable(),
    error_message: z.string().nullable(),
  })
  .meta({ id: "BatchResultLine" });
