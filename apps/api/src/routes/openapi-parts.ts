import { errorEnvelope } from "@ripen/dialect-aivideoapi";
import type { z } from "zod";
import type { ZodOpenApiOperationObject } from "zod-openapi";

/*
 * The pieces every OpenAPI path table is written with (openapi.ts and the openapi-<area>.ts
 * files beside it), kept apart so those files share them without importing one another.
 */

export type Operation = ZodOpenApiOperationObject;
type Responses = Operation["responses"];

export const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** A door's error answers: each of its statuses, all in its own envelope. */
export function errors(envelope: z.ZodType, statuses: Record<string, string>): Responses {
  return Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [status, json(envelope, description)]),
  );
}

/** Native-envelope error answers for `statuses`, each described by `text` (else "Error"). */
export const nativeErrorsWith =
  (text: Record<string, string>) =>
  (...statuses: string[]): Responses =>
    errors(errorEnvelope, Object.fromEntries(statuses.map((s) => [s, text[s] ?? "Error"])));

/** An operation under `tag`, with the bearer scheme (a key, or the admin token). */
export const bearerOperation =
  (tag: string) =>
  (operation: Omit<Operation, "security" | "tags">): Operation => ({
    tags: [tag],
    security: [{ bearer: [] }],
    ...operation,
  });
