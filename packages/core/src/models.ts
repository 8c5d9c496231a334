import type { ModelId, ProviderName } from "@ripen/db";
import { z } from "zod";
import { InvalidRequest, ModelNotFound } from "./errors";

export const aspectRatios = [
  "1:1",
  "2:3",
  "3:2",
  "3:4",
  "4:3",
  "4:5",
  "5:4",
  "9:16",
  "16:9",
  "21:9",
  "1:4",
  "4:1",
  "1:8",
  "8:1",
  "auto",
] as const;
export type AspectRatio = (typeof aspectRatios)[number];

export const resolutions = ["1K", "2K", "4K"] as const;
export type Resolution = (typeof resolutions)[number];

export const outputFormats = ["jpg", "png"] as const;
export type OutputFormat = (typeof outputFormats)[number];

export const PROMPT_MAX_CHARS = 20_000;

export interface ModelSpec {
  id: ModelId;
  provider: ProviderName;
  kind: "image";
  /** Credits per resolution; the keys are the resolutions the model accepts. */
  prices: Partial<Record<Resolution, number>>;
  maxImageUrls: number;
  /** Output formats the model accepts; empty when the field is not supported at all. */
  outputFormats: readonly OutputFormat[];
  /** How long a task may run before it expires and is refunded. */
  deadlineMs: number;
}

/** Prices and limits as documented by the upstream (documents 000 and 002). */
export const models: Record<ModelId, ModelSpec> = {
  "nano-banana-2": {
    id: "nano-banana-2",
    provider: "aivideoapi",
    kind: "image",
    prices: { "1K": 16, "2K": 24, "4K": 36 },
    maxImageUrls: 14,
    outputFormats: outputFormats,
    deadlineMs: 15 * 60_000,
  },
  "nano-banana-2-lite": {
    id: "nano-banana-2-lite",
    provider: "aivideoapi",
    kind: "image",
    prices: { "1K": 10 },
    maxImageUrls: 10,
    outputFormats: [],
    deadlineMs: 10 * 60_000,
  },
};

export function getModel(id: string): ModelSpec {
  // Own keys only: "__proto__" or "toString" must not find Object.prototype's members.
  if (!Object.hasOwn(models, id)) throw new ModelNotFound(id);
  return models[id as ModelId];
}

/** The normalized image input every provider adapter receives: defaults filled in. */
export interface ImageInput {
  prompt: string;
  resolution: Resolution;
  aspect_ratio: AspectRatio;
  output_format?: OutputFormat;
  image_urls?: string[];
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

function buildInputSchema(spec: ModelSpec) {
  const allowedResolutions = Object.keys(spec.prices) as Resolution[];
  return z.strictObject({
    prompt: storableString()
      .refine((s) => s.trim().length > 0, "must not be empty")
      .refine(
        (s) => [...s].length <= PROMPT_MAX_CHARS,
        `must be at most ${PROMPT_MAX_CHARS} characters`,
      ),
    resolution: z
      .enum(allowedResolutions as [Resolution, ...Resolution[]], {
        error: `must be one of ${allowedResolutions.join(", ")} for ${spec.id}`,
      })
      .default("1K"),
    aspect_ratio: z
      .enum(aspectRatios, { error: `must be one of ${aspectRatios.join(", ")}` })
      .default("auto"),
    output_format:
      spec.outputFormats.length > 0
        ? z
            .enum(spec.outputFormats as [OutputFormat, ...OutputFormat[]], {
              error: `must be one of ${spec.outputFormats.join(", ")}`,
            })
            .default("jpg")
        : z.never({ error: `is not supported by ${spec.id}` }).optional(),
    image_urls: z
      .array(httpUrl(), { error: "must be an array of URLs" })
      .max(spec.maxImageUrls, `accepts at most ${spec.maxImageUrls} URLs for ${spec.id}`)
      .optional(),
  });
}

/** Built once per model: building a zod schema costs more than most parses (a hot path). */
const inputSchemas = new WeakMap<ModelSpec, ReturnType<typeof buildInputSchema>>();

/**
 * Checks a generation input against the model's documented limits and fills in defaults.
 * Throws InvalidRequest naming the offending field.
 */
export function normalizeImageInput(spec: ModelSpec, raw: unknown): ImageInput {
  let schema = inputSchemas.get(spec);
  if (!schema) {
    schema = buildInputSchema(spec);
    inputSchemas.set(spec, schema);
  }
  const parsed = schema.safeParse(raw ?? {}, { reportInput: true });
  if (!parsed.success) throw invalidFromZod(parsed.error, "input");
  return parsed.data as ImageInput;
}

export function priceOf(spec: ModelSpec, input: ImageInput): number {
  const price = spec.prices[input.resolution];
  if (price === undefined)
    throw new InvalidRequest(
      `'input.resolution' ${input.resolution} is not offered for ${spec.id}.`,
    );
  return price;
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
