import type { AnyModelSpec, Principal } from "@ripen/core";
import { models } from "@ripen/models";
import { defaultProviders, type ProviderDeclaration } from "@ripen/providers";
import type { Request, Router } from "express";
import { z } from "zod";
import { doorPricing, pricedDoors } from "../doors/pricing";

/** One input parameter as its JSON Schema (input side) says it: type, allowed values, default. */
export const modelParameter = z
  .looseObject({
    required: z.boolean(),
    type: z.string().optional(),
    enum: z.array(z.unknown()).optional(),
    default: z.unknown().optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    maxLength: z.number().optional(),
    minItems: z.number().optional(),
    maxItems: z.number().optional(),
  })
  .meta({ id: "ModelParameter" });

export const modelEntry = z
  .object({
    id: z.string(),
    kind: z.enum(["image", "video"]),
    parameters: z.record(z.string(), modelParameter),
    /** Every default the model fills in when a parameter is left out. */
    defaults: z.record(z.string(), z.unknown()),
    /**
     * Price tables by door: `native` always (the model's own, what `POST /v1/cost` applies),
     * and each door that serves the model with a price list of its own.
     */
    prices: z.object({ native: z.unknown() }).catchall(z.unknown()),
    providers: z.array(
      z.object({ id: z.string(), dialect: z.string(), upstream_model: z.string() }),
    ),
    deadline_seconds: z.number().int(),
    /** The whole input schema (JSON Schema draft 2020-12, input side). */
    input_schema: z.record(z.string(), z.unknown()),
  })
  .meta({ id: "Model" });
export type ModelEntry = z.infer<typeof modelEntry>;

export const modelsResponse = z
  .object({
    code: z.number(),
    msg: z.string(),
    data: z.object({ models: z.array(modelEntry) }),
  })
  .meta({ id: "ModelsResponse" });

type JsonSchema = Record<string, unknown>;

/** The model's input schema as clients send it (defaults shown, refinements left out). */
export function inputJsonSchema(spec: AnyModelSpec): JsonSchema {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(spec.input, {
    io: "input",
    unrepresentable: "any",
  }) as JsonSchema;
  return schema;
}

/** A field declared `never` (e.g. lite's `output_format`) renders as `{not: {}}`: not offered. */
const isNever = (schema: JsonSchema) =>
  typeof schema.not === "object" && Object.keys(schema).length === 1;

function parametersOf(schema: JsonSchema): {
  parameters: Record<string, z.infer<typeof modelParameter>>;
  defaults: Record<string, unknown>;
} {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const parameters: Record<string, z.infer<typeof modelParameter>> = {};
  const defaults: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) {
    if (isNever(property)) continue;
    const { default: fallback, ...rest } = property;
    parameters[name] = {
      ...rest,
      ...(fallback === undefined ? {} : { default: fallback }),
      // A field with a default is filled in, so the client need not send it.
      required: required.has(name) && fallback === undefined,
    };
    if (fallback !== undefined) defaults[name] = fallback;
  }
  return { parameters, defaults };
}

/** A model as `GET /v1/models` shows it. */
export function modelEntryOf(
  spec: AnyModelSpec,
  providers: readonly ProviderDeclaration[],
): ModelEntry {
  const schema = inputJsonSchema(spec);
  const { parameters, defaults } = parametersOf(schema);
  const prices: ModelEntry["prices"] = { native: spec.prices };
  for (const door of pricedDoors) {
    const table = doorPricing[door].pricesOf(spec.id);
    if (table !== undefined) prices[door] = table;
  }
  return {
    id: spec.id,
    kind: spec.kind,
    parameters,
    defaults,
    prices,
    // Each provider whose dialect has a route for the model, as routing pairs them.
    providers: providers.flatMap((provider) => {
      const route = spec.routes.find((r) => r.dialect === provider.dialect);
      return route
        ? [{ id: provider.id, dialect: provider.dialect, upstream_model: route.upstreamModel }]
        : [];
    }),
    deadline_seconds: Math.ceil(spec.deadlineMs / 1000),
    input_schema: schema,
  };
}

/**
 * `GET /v1/models`: every model Ripen serves, with its parameters (allowed values and defaults,
 * read from the model's own input schema), its price tables per door and the providers that
 * serve it. Prices are read per request: configuration may change them at start.
 */
export function registerV1Models(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: { providers?: readonly ProviderDeclaration[] },
): void {
  const providers = deps.providers ?? defaultProviders;
  router.get("/v1/models", (req, res) => {
    principalOf(req);
    const body: z.input<typeof modelsResponse> = {
      code: 200,
      msg: "success",
      data: { models: Object.values(models).map((spec) => modelEntryOf(spec, providers)) },
    };
    res.json(body);
  });
}
