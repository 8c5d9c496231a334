import { type AnyModelSpec, ModelNotFound } from "@ripen/core";
import type { ModelKind } from "@ripen/db";
import { nanoBanana, nanoBananaEdit } from "./nano-banana";
import { nanoBanana2, nanoBanana2Lite } from "./nano-banana-2";
import { nanoBananaPro } from "./nano-banana-pro";
import { seedream4 } from "./seedream4";
import { videoModels } from "./video";

/** Every model Ripen serves, by id: six image models and eleven video models. */
export const models: Readonly<Record<string, AnyModelSpec>> = Object.freeze({
  [nanoBanana.id]: nanoBanana,
  [nanoBananaEdit.id]: nanoBananaEdit,
  [nanoBanana2.id]: nanoBanana2,
  [nanoBanana2Lite.id]: nanoBanana2Lite,
  [nanoBananaPro.id]: nanoBananaPro,
  [seedream4.id]: seedream4,
  ...videoModels,
});

export const modelIds = Object.keys(models);

/** The model of that id; ModelNotFound otherwise (`__proto__` and kin included). */
export function getModel(id: string, kind?: ModelKind): AnyModelSpec {
  // Own keys only: "__proto__" or "toString" must not find Object.prototype's members.
  if (!Object.hasOwn(models, id)) throw new ModelNotFound(id);
  const spec = models[id]!;
  if (kind && spec.kind !== kind) throw new ModelNotFound(id);
  return spec;
}

/**
 * Applies `RIPEN_PRICES` (JSON keyed by model id, the same shape as the model's price table) over
 * the documented defaults. Throws naming the problem.
 */
export function configurePrices(json: string | undefined): void {
  const tables = Object.fromEntries(Object.values(models).map((spec) => [spec.id, spec.prices]));
  applyPriceOverrides(tables, json, "RIPEN_PRICES", "model");
}

/**
 * Applies a price configuration (JSON: `{name: partial table}`) onto the named price tables,
 * which their price functions read. Only existing entries can change, each to a whole number
 * ≥ 0, so a typo fails at start instead of adding a price nothing reads; all or nothing.
 */
export function applyPriceOverrides(
  tables: Readonly<Record<string, unknown>>,
  json: string | undefined,
  variable: string,
  /** What the top-level names are, for errors: "model", "door". */
  noun: string,
): void {
  if (!json) return;
  let overrides: unknown;
  try {
    overrides = JSON.parse(json);
  } catch {
    throw new Error(`${variable} is not valid JSON`);
  }
  if (!isRecord(overrides)) throw new Error(`${variable} must be an object keyed by ${noun}`);
  const applied: Array<() => void> = [];
  for (const [name, table] of Object.entries(overrides)) {
    if (!Object.hasOwn(tables, name)) throw new Error(`${variable}: unknown ${noun} '${name}'`);
    collect(tables[name], table, `${variable}.${name}`, applied);
  }
  // All or nothing: one bad entry changes no price.
  for (const apply of applied) apply();
}

function collect(target: unknown, override: unknown, path: string, applied: Array<() => void>) {
  if (!isRecord(target) || !isRecord(override)) {
    throw new Error(`${path} must be an object`);
  }
  for (const [key, value] of Object.entries(override)) {
    if (!Object.hasOwn(target, key)) throw new Error(`${path}: no price '${key}'`);
    const current = target[key];
    if (typeof current === "number") {
      if (!Number.isInteger(value) || (value as number) < 0) {
        throw new Error(`${path}.${key} must be a whole number of credits ≥ 0`);
      }
      applied.push(() => {
        target[key] = value;
      });
    } else {
      collect(current, value, `${path}.${key}`, applied);
    }
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** `configure` for a process's entry point: a bad price configuration prints and exits. */
export function configurePricesOrExit(
  json: string | undefined,
  configure: (json: string | undefined) => void = configurePrices,
): void {
  try {
    configure(json);
  } catch (error) {
    console.error(`Invalid configuration:\n  ${(error as Error).message}`);
    process.exit(1);
  }
}
