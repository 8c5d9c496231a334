import { httpUrl, storableString } from "@ripen/core";
import { parseJsonString, plainObject } from "@ripen/dialect-kit";
import { z } from "zod";

/** Wire formats of the kie jobs API (document 003), written once for both sides. */

/** Longest model name and task id accepted: far above any real one, far below a body limit. */
export const NAME_MAX_CHARS = 200;

/**
 * The create-task body. `input` is checked against the model by the backend. `callBackUrl` is
 * not in document 003; it is the Kie family's callback field (document 004 documents it, with
 * the query answer as the callback body), accepted here as optional.
 */
export const createTaskRequest = z.strictObject({
  model: storableString().min(1, "must not be empty").max(NAME_MAX_CHARS),
  input: plainObject(),
  callBackUrl: httpUrl().optional(),
});
export type CreateTaskRequest = z.infer<typeof createTaskRequest>;

/** Every answer is wrapped in `{code, msg, data}`; `code` 200 is success, anything else an error. */
export const envelope = z.object({
  code: z.number().int(),
  msg: z.string().default(""),
  data: z.unknown().optional(),
});
export type Envelope = z.infer<typeof envelope>;

/** An error answer, as this dialect's servers send it (the status table's code, `data: null`). */
export interface ErrorEnvelope {
  code: number;
  msg: string;
  data: null;
}

export const createTaskResponse = z.object({
  code: z.number().int(),
  msg: z.string(),
  data: z.object({ taskId: z.string().min(1) }),
});
export type CreateTaskResponse = z.infer<typeof createTaskResponse>;

/**
 * `data.state`. Document 003 shows only `success`; the others are the Kie jobs API's own
 * vocabulary: waiting (accepted), queuing (waiting for capacity), generating, success, fail.
 */
export const taskStates = ["waiting", "queuing", "generating", "success", "fail"] as const;
export type TaskState = (typeof taskStates)[number];

/** Epoch milliseconds, or null while not known yet. */
const epochMs = z.number().nullish();

/**
 * The query answer's `data`, also the callback's. `param` and `resultJson` are JSON *strings*
 * (read them with parseParam / parseResultJson). Fields the document shows as null until the task
 * ends are nullish; `failCode` is read as a string even when an upstream sends a number.
 */
export const recordInfo = z.object({
  taskId: z.string().min(1),
  model: z.string(),
  state: z.enum(taskStates),
  param: z.string(),
  resultJson: z.string().nullish(),
  failCode: z
    .union([z.string(), z.number().transform(String)])
    .nullish()
    .transform((code) => code || null),
  failMsg: z.string().nullish(),
  costTime: epochMs,
  completeTime: epochMs,
  createTime: z.number(),
});
/** The data as it is parsed (failCode a string or null). */
export type RecordInfo = z.infer<typeof recordInfo>;
/** The data as a server writes it. */
export type RecordInfoData = z.input<typeof recordInfo>;

export const recordInfoResponse = z.object({
  code: z.number().int(),
  msg: z.string(),
  data: recordInfo,
});
export type RecordInfoResponse = z.infer<typeof recordInfoResponse>;

/**
 * A callback: the query answer, posted when the task ends. Its `code` may be an error code for a
 * failed task (and `msg` its words), so only `data` is read.
 */
export const callbackBody = z.object({ data: recordInfo });
export type CallbackBody = z.infer<typeof callbackBody>;

/** What `resultJson` holds once `state` is success. */
export const resultJson = z.object({ resultUrls: z.array(z.string()) });
export type ResultJson = z.infer<typeof resultJson>;

/** What `param` holds: the whole create request (tolerant: it is the upstream's echo). */
export const param = z.object({
  model: z.string(),
  input: z.record(z.string(), z.unknown()),
  callBackUrl: z.string().optional(),
});
export type Param = z.infer<typeof param>;

/** The result of a task, from its `resultJson` string; undefined when it holds none. */
export function parseResultJson(record: Pick<RecordInfo, "resultJson">): ResultJson | undefined {
  const parsed = resultJson.safeParse(parseJsonString(record.resultJson));
  return parsed.success ? parsed.data : undefined;
}

/** The create request a task echoes in its `param` string; undefined when it is not one. */
export function parseParam(record: Pick<RecordInfo, "param">): Param | undefined {
  const parsed = param.safeParse(parseJsonString(record.param));
  return parsed.success ? parsed.data : undefined;
}
