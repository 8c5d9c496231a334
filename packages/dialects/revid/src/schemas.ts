import { httpUrl } from "@ripen/core";
import { parseJsonString, plainObject } from "@ripen/dialect-kit";
import { z } from "zod";

/**
 * Wire formats of the revid dialect (document 004, "Nano Banana Pro API"), written once for both
 * sides. Kie-like: every answer is `{code, msg, data}`, and the query answer carries the create
 * request and the result as JSON *strings* (`param`, `resultJson`).
 */

/** Document 004's create endpoint ("1. Create Generation Task" and every request example). */
export const CREATE_PATH = "/paid/nano/banana/create";
/**
 * The document's "Usage Flow" says to create tasks at `POST /paid/banana/pro/create` instead.
 * Servers answer both identically; clients use CREATE_PATH.
 */
export const CREATE_ALIAS_PATH = "/paid/banana/pro/create";
/** "Query Task Status": POST, with `taskId` in the query string. */
export const QUERY_PATH = "/paid/get/taskid";

/** The create request's top level; `input` is checked against the model by the backend. */
export const createTaskRequest = z.strictObject({
  model: z.string({ error: "must be a string" }).min(1, "must not be empty"),
  input: plainObject(),
  callBackUrl: httpUrl().optional(),
});
export type CreateTaskRequest = z.infer<typeof createTaskRequest>;

export const createTaskResponse = z.object({
  code: z.number(),
  msg: z.string(),
  data: z.object({ taskId: z.string().min(1) }),
});
export type CreateTaskResponse = z.infer<typeof createTaskResponse>;

/** The document's task states, exactly: "waiting(waiting), success(success), fail(fail)". */
export const taskStates = ["waiting", "success", "fail"] as const;
export type TaskState = (typeof taskStates)[number];

/** `data` of the query answer (and of the callback body, which is identical to it). */
export const taskRecord = z.object({
  taskId: z.string().min(1),
  model: z.string(),
  state: z.enum(taskStates),
  /** The complete create request (model, input, callBackUrl), as a JSON string. */
  param: z.string(),
  /** `{"resultUrls":[…]}` as a JSON string once the task is `success`. */
  resultJson: z.string().nullish(),
  // Documented as a string; Kie-style hosts also send numbers ("500" or 500): both read as text.
  failCode: z
    .union([z.string(), z.number()])
    .nullish()
    .transform((v) => (v === null || v === undefined ? v : String(v))),
  failMsg: z.string().nullish(),
  costTime: z.number().nullish(),
  completeTime: z.number().nullish(),
  createTime: z.number(),
});
export type TaskRecord = z.infer<typeof taskRecord>;

/** The query answer, which is also the callback body. */
export const queryTaskResponse = z.object({
  code: z.number(),
  msg: z.string(),
  data: taskRecord,
});
export type QueryTaskResponse = z.infer<typeof queryTaskResponse>;

/**
 * Read by the client: a Kie-like host may report in-progress states the document does not list
 * (Kie's `queuing`, `generating`); they read as still running instead of as a broken answer.
 */
export const lenientQueryTaskResponse = z.object({
  code: z.number(),
  msg: z.string().optional(),
  data: taskRecord.extend({ state: z.string().min(1) }),
});

/** Every error: the status table's code, its message, and `data: null`. */
export const errorEnvelope = z.object({
  code: z.number().int(),
  msg: z.string(),
  data: z.null(),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelope>;

/** What the client reads of a non-success answer: the code, whatever else came with it. */
export const looseErrorEnvelope = z.object({
  code: z.number().int(),
  msg: z.string().optional(),
});

/** The create request as `param` carries it; tolerant, since it is read back from the upstream. */
export const taskParam = z.object({
  model: z.string(),
  input: z.record(z.string(), z.unknown()),
  callBackUrl: z.string().optional(),
});
export type TaskParam = z.infer<typeof taskParam>;

/** `resultJson`: `{resultUrls}` for images and videos, `{resultObject}` for text. */
export const taskResult = z.object({
  resultUrls: z.array(z.string()).optional(),
  resultObject: z.record(z.string(), z.unknown()).optional(),
});
export type TaskResult = z.infer<typeof taskResult>;

/** The create request inside `param`, or undefined when it is absent or not that shape. */
export function parseParam(param: string | null | undefined): TaskParam | undefined {
  const parsed = taskParam.safeParse(parseJsonString(param));
  return parsed.success ? parsed.data : undefined;
}

/** The result inside `resultJson`, or undefined when it is absent or not that shape. */
export function parseResultJson(resultJson: string | null | undefined): TaskResult | undefined {
  const parsed = taskResult.safeParse(parseJsonString(resultJson));
  return parsed.success ? parsed.data : undefined;
}
