import { httpUrl } from "@ripen/core";
import { plainObject } from "@ripen/dialect-kit";
import { z } from "zod";

/** Wire formats of the aivideoapi dialect (documents 000 and 002), written once for both sides. */

/** The request's top level; `input` is checked against the model by the backend. */
export const createTaskRequest = z.strictObject({
  model: z.string({ error: "must be a string" }).min(1, "must not be empty"),
  input: plainObject(),
  callback_url: httpUrl().optional(),
  /**
   * Not in the documents: Ripen's per-request deadline, in seconds (at least 10, and shorter
   * than the model's own deadline, which the backend checks). Past it the task ends expired and
   * is refunded.
   */
  timeout_seconds: z
    .int({ error: "must be a whole number of seconds" })
    .min(10, "must be at least 10 seconds")
    .optional(),
});
export type CreateTaskRequest = z.infer<typeof createTaskRequest>;

export const createTaskResponse = z.object({
  code: z.number(),
  msg: z.string(),
  data: z.object({ taskId: z.string() }),
});
export type CreateTaskResponse = z.infer<typeof createTaskResponse>;

export const wireStatuses = ["pending", "processing", "completed", "failed"] as const;
export type WireStatus = (typeof wireStatuses)[number];

/** The query-task body, which is also the callback body. */
export const taskResponse = z.object({
  id: z.string(),
  status: z.enum(wireStatuses),
  model: z.string(),
  created_at: z.number().int().optional(),
  completed_at: z.number().int().optional(),
  output: z
    .object({
      urls: z.array(z.string()),
      metadata: z.record(z.string(), z.unknown()).default({}),
    })
    .optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type TaskResponse = z.infer<typeof taskResponse>;

/** Not specified by the documents beyond its path; Ripen and the sandbox answer this shape. */
export const creditsResponse = z.object({
  code: z.number(),
  msg: z.string(),
  data: z.object({
    credits: z.number(),
    balance: z.number(),
    held: z.number(),
  }),
});
export type CreditsResponse = z.infer<typeof creditsResponse>;

export const errorEnvelope = z.object({
  error: z.object({ code: z.string(), message: z.string(), type: z.string() }),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelope>;
