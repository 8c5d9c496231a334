import type { DialectName, ModelKind } from "@ripen/db";
import { z } from "zod";
import { InvalidRequest } from "./errors";

/**
 * How one provider dialect serves a Ripen model: the model's name upstream and the translation
 * of Ripen's input into the dialect's fields. `translate` answers null when this route cannot
 * serve that input (an aspect ratio or a number of images the upstream does not offer), so
 * routing skips it.
 */
export interface Route<I> {
  dialect: DialectName;
  upstreamModel: string;
  translate(input: I): Record<string, unknown> | null;
}

/**
 * A Ripen model: its kind, its input schema (built once: building a zod schema costs more than
 * most parses), its price as a function of its input over a table of plain numbers (the
 * documents' figures by default, overridable by configuration), its deadline and its routes.
 */
export interface ModelSpec<I extends object = Record<string, unknown>, P = unknown> {
  id: string;
  kind: ModelKind;
  /** Strict: unknown fields are refused; defaults are filled in. */
  input: z.ZodType<I>;
  prices: P;
  price(input: I, prices: P): number;
  /** How long a task may run before it expires and is refunded. */
  deadlineMs: number;
  routes: readonly Route<I>[];
}

// biome-ignore lint/suspicious/noExplicitAny: a catalog holds models of every input type
export type AnyModelSpec = ModelSpec<any, any>;

export const PROMPT_MAX_CHARS = 20_000;

/**
 * Checks a generation input against the model's schema and fills in defaults. Throws
 * InvalidRequest naming the offending field, as `input.…`.
 */
export function normalizeInput<I extends object>(spec: ModelSpec<I>, raw: unknown): I {
  return parseInput(spec.input, raw);
}

/** Parses `raw` with `schema`; a failure is InvalidRequest naming the field under `root`. */
export function parseInput<T>(schema: z.ZodType<T>, raw: unknown, root = "input"): T {
  const parsed = schema.safeParse(raw ?? {}, { reportInput: true });
  if (!parsed.success) throw invalidFromZod(parsed.error, root);
  return parsed.data;
}

/** The model's price for a normalized input, in Ripen credits. */
export function priceOf<I extends object, P>(spec: ModelSpec<I, P>, input: I): number {
  const price = spec.price(input, spec.prices);
  if (!Number.isInteger(price) || price < 0) {
    throw new InvalidRequest(`No price is defined for this input of ${spec.id}.`);
  }
  return price;
}

/** Longest URL accepted anywhere in a request (image URLs, callback URLs). */
export const URL_MAX_CHARS = 2_048;

/**
 * True when Postgres can store the string as text or inside jsonb: no NUL (text cannot hold it)
 * and no unpaired UTF-16 surrogate (jsonb rejects the escape; text would silently store U+FFFD).
 */
export function isStorableText(value: string): boolean {
  return !/\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value);
}

const UNSTORABLE_TEXT = "must not contain NUL characters or unpaired UTF-16 surrogates";

/** A string field that will be stored: checked before anything else looks at its content. */
export function storableString(typeError = "must be a string") {
  return z.string({ error: typeError }).refine(isStorableText, {
    error: UNSTORABLE_TEXT,
    abort: true,
  });
}

const URL_TYPE_ERROR = "must be an http(s) URL";

/** An http(s) URL of at most URL_MAX_CHARS that Postgres can store. */
export function httpUrl() {
  return storableString(URL_TYPE_ERROR)
    .max(URL_MAX_CHARS, { error: `must be at most ${URL_MAX_CHARS} characters`, abort: true })
    .pipe(z.url({ protocol: /^https?$/, error: URL_TYPE_ERROR }));
}

/**
 * Turns the first zod issue into a message in the documents' style: "'input.prompt' is required."
 * Parse with `{ reportInput: true }`: without it zod leaves `issue.input` unset and every wrong
 * type would read as missing.
 */
export function invalidFromZod(error: z.ZodError, root?: string): InvalidRequest {
  const issue = error.issues[0];
  if (!issue) return new InvalidRequest("Invalid request.");
  const pathParts = [...(root ? [root] : []), ...issue.path.map(String)];
  if (issue.code === "unrecognized_keys") {
    const field = [...pathParts, issue.keys[0] ?? ""].join(".");
    return new InvalidRequest(`'${field}' is not a recognized field.`, field);
  }
  const field = pathParts.join(".");
  const missing = issue.code === "invalid_type" && issue.input === undefined;
  if (!field)
    return new InvalidRequest(
      missing ? "Request body is required." : `Request body ${issue.message}.`,
    );
  return new InvalidRequest(
    missing ? `'${field}' is required.` : `'${field}' ${issue.message}.`,
    field,
  );
}

/** A non-empty prompt of at most `max` characters (code points) that Postgres can store. */
export function promptText(max = PROMPT_MAX_CHARS) {
  return storableString()
    .refine((s) => s.trim().length > 0, "must not be empty")
    .refine((s) => [...s].length <= max, `must be at most ${max} characters`);
}

/** One of `values`, with an error that lists them. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, context = "") {
  return z.enum(values, { error: `must be one of ${values.join(", ")}${context}` });
}
