import { kieFamilyRecordView, ModelNotFound, type Principal } from "@ripen/core";
import {
  CREATE_PATH,
  createRequestOf,
  createRevidRouter,
  documentedCost,
  documentedPrices,
  type GoogleNanoBananaEditInput,
  type GoogleNanoBananaInput,
  type NanoBananaProInput,
  parseModelInput,
  type RevidBackend,
  type RevidModel,
  type RevidPrices,
  revidModels,
  type TaskParam,
  type TaskRecord,
} from "@ripen/dialect-revid";
import { getModel } from "@ripen/models";
import type { Router } from "express";
import { admitRequest } from "../doors/admission";
import { createTaskThroughDoor } from "../doors/create-task";
import { unavailableWhenDatabaseIsDown } from "../doors/database-down";
import type { DoorDeps, DoorRouterOptions } from "../doors/deps";
import { readTask } from "../doors/read-task";
import { checkCreateUrls } from "../doors/user-urls";

/**
 * The revid door (document 004): `POST /paid/nano/banana/create` (and the Usage Flow's
 * `/paid/banana/pro/create`), `POST|GET /paid/get/taskid?taskId=`, served by the dialect's own
 * router (the sandbox's) over Ripen's accounts, credits and tasks. The task records the request
 * as the dialect read it, so `param` echoes it and `model` reads as the client's name; its
 * client callback (`callBackUrl`) is the query answer, written by core's `doorCallbackBody`.
 */

/**
 * What the door charges, in credits: document 004's figures by default. Mutable: configuration
 * (`RIPEN_DOOR_PRICES={"revid": …}`) overrides entries in place, and create reads it per request.
 */
export const revidDoorPrices: RevidPrices = structuredClone(documentedPrices) as RevidPrices;

interface InputOf {
  "google/nano-banana": GoogleNanoBananaInput;
  "google/nano-banana-edit": GoogleNanoBananaEditInput;
  "nano-banana-pro": NanoBananaProInput;
}

/** The Ripen model serving each revid model, and the revid input in that model's native fields. */
const servedBy: {
  [M in RevidModel]: { ripenModel: string; toRipen(input: InputOf[M]): Record<string, unknown> };
} = {
  // `image_size` holds an aspect ratio (the examples send "1:1"); Ripen spells jpg as revid does.
  "google/nano-banana": {
    ripenModel: "nano-banana",
    toRipen: (input) => ({
      prompt: input.prompt,
      aspect_ratio: input.image_size,
      output_format: input.output_format,
    }),
  },
  "google/nano-banana-edit": {
    ripenModel: "nano-banana-edit",
    toRipen: (input) => ({
      prompt: input.prompt,
      image_urls: input.image_urls,
      aspect_ratio: input.image_size,
      output_format: input.output_format,
    }),
  },
  "nano-banana-pro": {
    ripenModel: "nano-banana-pro",
    toRipen: (input) => ({
      prompt: input.prompt,
      aspect_ratio: input.aspect_ratio,
      resolution: input.resolution,
      output_format: input.output_format,
      // No images is text to image: Ripen's field is optional, and empty would mean the same.
      ...(input.image_input.length ? { image_urls: input.image_input } : {}),
    }),
  },
};

interface RevidCreate {
  model: RevidModel;
  credits: number;
  /** The create request as `param` echoes it: the model's defaults filled in, as upstream does. */
  param: TaskParam;
  ripenModel: string;
  ripenInput: Record<string, unknown>;
}

/**
 * A create body read as create reads it: the dialect's checks (400 for the top level, 404 for a
 * model it does not list, 422 for input), the door's price, and the Ripen model and input.
 */
function planRevidCreate(body: unknown): RevidCreate {
  const request = createRequestOf(body);
  const input = parseModelInput(request.model, request.input);
  const model = request.model as RevidModel;
  const credits = documentedCost(model, input, revidDoorPrices);
  // Every listed model and resolution has a price unless configuration removed it: not served.
  if (credits === undefined) throw new ModelNotFound(model);
  const served = servedBy[model] as { ripenModel: string; toRipen(input: unknown): object };
  return {
    model,
    credits,
    param: {
      model,
      input,
      ...(request.callBackUrl === undefined ? {} : { callBackUrl: request.callBackUrl }),
    },
    ripenModel: served.ripenModel,
    ripenInput: { ...served.toRipen(input) },
  };
}

/**
 * The door's price of a create body: the very function create charges with, so it refuses what
 * create refuses (except a callBackUrl or image URL the deployment's URL policy forbids).
 */
export function priceRevidRequest(body: unknown): { model: string; credits: number } {
  const { model, credits } = planRevidCreate(body);
  return { model, credits };
}

/**
 * The door's prices for a Ripen model, keyed by the revid model name(s) serving it (for
 * `GET /v1/models`); undefined when the door does not serve it.
 */
export function revidPricesOf(ripenModelId: string): object | undefined {
  const entries = revidModels
    .filter((model) => servedBy[model].ripenModel === ripenModelId)
    .map((model) => [model, structuredClone(revidDoorPrices[model])]);
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** The revid door's backend: Ripen's keys, the create verb every door shares, any task's record. */
function revidBackend(deps: DoorDeps): RevidBackend<Principal> {
  return unavailableWhenDatabaseIsDown<RevidBackend<Principal>>({
    authenticate: (apiKey, req) => admitRequest(deps, apiKey, req),
    async createTask(principal, request, options = {}) {
      const plan = planRevidCreate(request);
      // Before the shared check (in Ripen's fields), so a refused callBackUrl reads by its name.
      checkCreateUrls(request.callBackUrl, plan.param.input, deps.userUrls, "callBackUrl");
      const task = await createTaskThroughDoor(deps, principal, {
        door: "revid",
        model: getModel(plan.ripenModel),
        input: plan.ripenInput,
        price: plan.credits,
        doorRequest: plan.param,
        callbackUrl: request.callBackUrl ?? null,
        idempotencyKey: options.idempotencyKey,
        // Both create paths are one operation: a retry at the other path replays the same task.
        idempotencyScope: { endpoint: `POST ${CREATE_PATH}`, body: request },
      });
      return { taskId: task.id };
    },
    getTask: async (principal, taskId): Promise<TaskRecord> =>
      kieFamilyRecordView(await readTask(deps.db, principal, taskId)),
  });
}

/**
 * The door's router. Beyond the document: a Bearer key is taken beside `x-api-key`, the query
 * answers GET as well as POST, and `Idempotency-Key` makes a create safe to retry.
 */
export function createRevidDoor(deps: DoorDeps, options: DoorRouterOptions): Router {
  return createRevidRouter(revidBackend(deps), {
    bodyLimit: options.bodyLimit,
    onUnexpectedError: options.onUnexpectedError,
    acceptBearer: true,
    queryByGet: true,
  });
}
