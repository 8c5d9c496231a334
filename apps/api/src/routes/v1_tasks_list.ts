import {
  InvalidRequest,
  isIdOf,
  listTasks,
  type Principal,
  type TaskListPosition,
} from "@ripen/core";
import { type DoorName, doorNames, type Executor, type TaskStatus } from "@ripen/db";
import { taskResponse } from "@ripen/dialect-aivideoapi";
import { modelIds } from "@ripen/models";
import type { Request, Router } from "express";
import { z } from "zod";
import { orUnavailable } from "../doors/database-down";
import { decodeCursor, encodeCursor } from "./cursor";
import { nativeEnvelope } from "./envelope";
import { toAivideoapiTask } from "./native";

export const LIST_LIMIT_DEFAULT = 20;
export const LIST_LIMIT_MAX = 100;

/**
 * What `status=` accepts: the native vocabulary (what `GET /v1/tasks/{id}` shows, so `failed`
 * includes canceled and expired tasks, which read as failed) and Ripen's finer internal statuses
 * for the rest. `failed` is the native word: there is no filter for "failed, but neither canceled
 * nor expired".
 */
const statusFilters: Readonly<Record<string, readonly TaskStatus[]>> = {
  pending: ["queued", "submitting"],
  processing: ["running"],
  completed: ["succeeded"],
  failed: ["failed", "canceled", "expired"],
  queued: ["queued"],
  submitting: ["submitting"],
  running: ["running"],
  succeeded: ["succeeded"],
  canceled: ["canceled"],
  expired: ["expired"],
};

const knownParams = new Set([
  "status",
  "model",
  "created_after",
  "created_before",
  "limit",
  "cursor",
  "batch_id",
  "door",
]);

/** A client's value in a message: quoted, and cut short if long. */
export const shown = (value: string) =>
  JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);

/** A parameter's values: `a,b` and repeated parameters (`?status=a&status=b`) both list. */
export function listParam(query: Record<string, unknown>, name: string): string[] | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const parts = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => String(v).split(","));
  const values = parts.map((v) => v.trim());
  if (values.some((v) => v === "")) {
    throw new InvalidRequest(`'${name}' must not have an empty value.`, name);
  }
  return values;
}

export function singleParam(query: Record<string, unknown>, name: string): string | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== "string") throw new InvalidRequest(`'${name}' must be given once.`, name);
  return raw;
}

/** Latest time accepted: the end of year 9999, as Unix seconds. */
const MAX_UNIX_SECONDS = 253_402_300_799;
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** Unix seconds (as `created_at` shows them) or an RFC 3339 timestamp. */
export function timeParam(query: Record<string, unknown>, name: string): Date | undefined {
  const raw = singleParam(query, name);
  if (raw === undefined) return undefined;
  let ms = Number.NaN;
  if (/^\d{1,12}$/.test(raw) && Number(raw) <= MAX_UNIX_SECONDS) ms = Number(raw) * 1000;
  else if (rfc3339.test(raw)) ms = Date.parse(raw);
  if (!Number.isFinite(ms) || ms > MAX_UNIX_SECONDS * 1000) {
    throw new InvalidRequest(
      `'${name}' must be Unix seconds (like created_at) or an RFC 3339 timestamp (2026-11-30T07:00:00Z).`,
      name,
    );
  }
  return new Date(ms);
}

export function limitParam(query: Record<string, unknown>): number {
  const raw = singleParam(query, "limit");
  if (raw === undefined) return LIST_LIMIT_DEFAULT;
  const limit = /^\d{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(limit >= 1 && limit <= LIST_LIMIT_MAX)) {
    throw new InvalidRequest(
      `'limit' must be a whole number from 1 to ${LIST_LIMIT_MAX}.`,
      "limit",
    );
  }
  return limit;
}

/**
 * The cursor is opaque to clients: base64url of `[microseconds, task id]`, the position of the
 * last task of the page it came with.
 */
export const encodeTaskCursor = (position: TaskListPosition) =>
  encodeCursor(position.createdAtMicros.toString(), position.id);

export function decodeTaskCursor(cursor: string): TaskListPosition {
  const [micros, id] = decodeCursor(
    cursor,
    (position, taskId) => /^-?\d{1,18}$/.test(position) && isIdOf("task", taskId),
  );
  return { createdAtMicros: BigInt(micros), id };
}

/**
 * `GET /v1/tasks`: the caller's tasks, newest first, a page at a time. Filters: `status`, `model`
 * (each one value or several, comma-separated), `created_after` (at or after) and
 * `created_before` (strictly before), `batch_id` (the items of one batch), `limit` (1–100, 20). `next_cursor` fetches the next page
 * (send the same filters with it) and is null on the last. Any other parameter is a 400 naming it.
 */
export function registerV1TasksList(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: { db: Executor },
): void {
  router.get("/v1/tasks", async (req, res) => {
    const principal = principalOf(req);
    const query = req.query as Record<string, unknown>;
    const unknown = Object.keys(query).filter((name) => !knownParams.has(name));
    if (unknown.length > 0) {
      throw new InvalidRequest(
        `${shown(unknown[0]!)} is not a recognized parameter (use ${[...knownParams].join(", ")}).`,
        unknown[0]!.slice(0, 64),
      );
    }
    const statuses = listParam(query, "status")?.flatMap((status) => {
      const filter = Object.hasOwn(statusFilters, status) ? statusFilters[status] : undefined;
      if (!filter) {
        throw new InvalidRequest(
          `'status' must be one of ${Object.keys(statusFilters).join(", ")} (got ${shown(status)}).`,
          "status",
        );
      }
      return filter;
    });
    const models = listParam(query, "model");
    for (const model of models ?? []) {
      if (!modelIds.includes(model)) {
        throw new InvalidRequest(`'model' ${shown(model)} is not a model Ripen serves.`, "model");
      }
    }
    const batchId = singleParam(query, "batch_id");
    if (batchId !== undefined && !isIdOf("batch", batchId)) {
      throw new InvalidRequest(`'batch_id' ${shown(batchId)} is not a batch id.`, "batch_id");
    }
    const doors = listParam(query, "door")?.map((door) => {
      if (!(doorNames as readonly string[]).includes(door)) {
        throw new InvalidRequest(
          `'door' must be one or more of ${doorNames.join(", ")} (got ${shown(door)}).`,
          "door",
        );
      }
      return door as DoorName;
    });
    const cursor = singleParam(query, "cursor");
    const args = {
      batchId,
      doors,
      accountId: principal.accountId,
      statuses,
      models,
      createdFrom: timeParam(query, "created_after"),
      createdBefore: timeParam(query, "created_before"),
      limit: limitParam(query),
      after: cursor === undefined ? undefined : decodeTaskCursor(cursor),
    };
    const page = await orUnavailable(() => listTasks(deps.db, args));
    res.json({
      code: 200,
      msg: "success",
      data: {
        tasks: page.tasks.map(toAivideoapiTask),
        next_cursor: page.next ? encodeTaskCursor(page.next) : null,
      },
    } satisfies z.input<typeof taskListResponse>);
  });
}

/** `GET /v1/tasks`'s query, for the OpenAPI document (the handler checks it above). */
export const taskListQuery = z.object({
  status: z
    .string()
    .optional()
    .meta({
      description: `One or more (comma-separated) of ${Object.keys(statusFilters).join(", ")}`,
    }),
  model: z.string().optional().meta({ description: "One or more model ids, comma-separated" }),
  created_after: z.string().optional().meta({ description: "Unix seconds or RFC 3339, inclusive" }),
  created_before: z
    .string()
    .optional()
    .meta({ description: "Unix seconds or RFC 3339, exclusive" }),
  batch_id: z.string().optional(),
  door: z
    .string()
    .optional()
    .meta({ description: `One or more (comma-separated) of ${doorNames.join(", ")}` }),
  limit: z
    .string()
    .optional()
    .meta({ description: `1–${LIST_LIMIT_MAX}, default ${LIST_LIMIT_DEFAULT}` }),
  cursor: z.string().optional().meta({ description: "`next_cursor` of the previous page" }),
});

export const taskListResponse = nativeEnvelope(
  z.object({ tasks: z.array(taskResponse), next_cursor: z.string().nullable() }),
).meta({ id: "TaskList" });
