import { z } from "zod";

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * An object passed through as parsed, not copied: z.record rebuilds the object, and assigning an
 * own "__proto__" key to the copy sets its prototype instead, so a later strict check never saw
 * it. The model's own schema checks the fields.
 */
export const plainObject = () =>
  z
    .custom<Record<string, unknown>>()
    .check((ctx) => {
      if (!isPlainObject(ctx.value)) {
        ctx.issues.push({
          code: "invalid_type",
          expected: "object",
          input: ctx.value,
          message: "must be an object",
        });
      }
    })
    // A custom check is invisible to JSON Schema (the OpenAPI document): say what it accepts.
    .meta({ type: "object", additionalProperties: true });

/** The token of an `Authorization: Bearer …` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match ? match[1]! : null;
}

/**
 * Parses a JSON string field of a wire body (kie's `resultJson`, `param`): the documents send
 * JSON inside a string. Undefined when it is absent, empty or not JSON.
 */
export function parseJsonString(value: string | null | undefined): unknown {
  if (typeof value !== "string" || value === "") return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** A body-parser or router error raised before any handler ran (bad JSON, broken gzip, …). */
export interface ClientHttpError {
  status: number;
  type?: unknown;
  limit?: number;
}

export function isClientHttpError(error: unknown): error is ClientHttpError {
  if (typeof error !== "object" || error === null) return false;
  const status = (error as { status?: unknown }).status;
  return typeof status === "number" && status >= 400 && status < 500;
}

/** What went wrong reading a request, in words, whatever the dialect's envelope. */
export function describeClientHttpError(error: ClientHttpError): string {
  if (error instanceof URIError) return "Request path is not valid percent-encoding.";
  switch (error.type) {
    case "entity.parse.failed":
      return "Request body is not valid JSON.";
    case "entity.too.large":
      return error.limit
        ? `Request body is larger than the ${error.limit} byte limit.`
        : "Request body is too large.";
    case "encoding.unsupported":
    case "charset.unsupported":
      return "Request body must be UTF-8 encoded JSON.";
    default:
      // Includes a body that claims gzip or deflate but does not decompress.
      return "Request body could not be read.";
  }
}
