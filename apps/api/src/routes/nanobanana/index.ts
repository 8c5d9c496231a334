import {
  activeSubscription,
  getAccountView,
  getCredits,
  InvalidRequest,
  nanobananaStatusView,
  type Principal,
  SubscriptionRequired,
  TaskNotFound,
} from "@ripen/core";
import type { Task } from "@ripen/db";
import {
  createNanobananaRouter,
  DEFAULT_IMAGE_MODEL,
  DEFAULT_VIDEO_MODEL,
  type GenerateOptions,
  type ImageStatusData,
  imageModels,
  type NanobananaBackend,
  type VideoStatusData,
} from "@ripen/dialect-nanobanana";
import { getModel, models } from "@ripen/models";
import type { Router } from "express";
import { admitRequest } from "../../doors/admission";
import { createTaskThroughDoor } from "../../doors/create-task";
import { unavailableWhenDatabaseIsDown } from "../../doors/database-down";
import type { DoorDeps, DoorRouterOptions } from "../../doors/deps";
import { readTask } from "../../doors/read-task";
import {
  nanobananaCredits,
  nanobananaModelsList,
  type RipenCreate,
  ripenImageCreate,
  ripenVideoCreate,
} from "./plan";

export {
  nanobananaDoorPrices,
  nanobananaPricesOf,
  priceNanobananaRequest,
} from "./plan";

/**
 * The nanobanana door (document 001): its seven endpoints under `/api/v1/`, served by the
 * dialect's own router (the sandbox's) over Ripen's keys, credits and tasks. A create is priced
 * from the door's own list (`nanobananaDoorPrices`) and runs as the Ripen model serving the
 * document's model; any task, whichever door made it, reads through the status endpoint of its
 * kind. The document has no callbacks, so a create names none.
 */
export function createNanobananaDoor(deps: DoorDeps, options: DoorRouterOptions): Router {
  return createNanobananaRouter(nanobananaBackend(deps), {
    bodyLimit: options.bodyLimit,
    onUnexpectedError: options.onUnexpectedError,
  });
}

/** Who the create answer names as running the model (see `generateVideo`). */
const CREATE_PROVIDER = "ripen";

function nanobananaBackend(deps: DoorDeps): NanobananaBackend<Principal> {
  /** Creates the task through the verb every door shares; answers it and the credits left. */
  async function create(
    principal: Principal,
    ripen: RipenCreate,
    price: number,
    scope: { endpoint: string; body: unknown },
    options: GenerateOptions,
  ) {
    const task = await inDoorFields(() =>
      createTaskThroughDoor(deps, principal, {
        door: "nanobanana",
        model: getModel(ripen.model),
        input: ripen.input,
        price,
        idempotencyKey: options.idempotencyKey,
        idempotencyScope: scope,
      }),
    );
    // Read off the create's own statement; a replayed key wrote nothing now, so it asks.
    const available =
      task.creditsAvailable ?? (await getCredits(deps.db, principal.accountId)).available;
    // A replayed key answers the task it made first, at the price it was held for.
    return { task_id: task.id, credits_used: task.price, credits_remaining: available };
  }

  /** The caller's task at the status endpoint of `kind`; another kind's task is not found. */
  async function statusOf(principal: Principal, taskId: string, kind: "image" | "video") {
    const task = await readTask(deps.db, principal, taskId);
    if (kindOf(task) !== kind) throw new TaskNotFound(taskId);
    return nanobananaStatusView(task, kind);
  }

  return unavailableWhenDatabaseIsDown<NanobananaBackend<Principal>>({
    authenticate: (apiKey, req) => admitRequest(deps, apiKey, req),

    async generateImage(principal, request, options = {}) {
      const price = nanobananaCredits({ ...request, type: "image" });
      // Document 001's mark, so this door's: other doors sell these models without it.
      if (imageModels[request.model].subscriptionRequired) {
        const subscription = await activeSubscription(
          deps.db,
          principal.accountId,
          deps.clock.now(),
        );
        if (!subscription) throw new SubscriptionRequired(request.model);
      }
      const created = await create(
        principal,
        ripenImageCreate(request),
        price,
        { endpoint: "POST /api/v1/images/generate", body: request },
        options,
      );
      return { ...created, status: "pending" };
    },

    async generateVideo(principal, request, options = {}) {
      const price = nanobananaCredits({ ...request, type: "video" });
      const created = await create(
        principal,
        ripenVideoCreate(request),
        price,
        { endpoint: "POST /api/v1/videos/generate", body: request },
        options,
      );
      // Chosen (the document's example names "wavespeed", who runs the model): Ripen picks the
      // upstream when it submits, after this answer, so the create names Ripen; videos/status
      // names the provider once one has the task.
      return { ...created, status: "processing", provider: CREATE_PROVIDER };
    },

    // The view's status words are the kind's own (images `completed`, videos `succeeded`).
    imageStatus: async (principal, taskId) =>
      (await statusOf(principal, taskId, "image")) as ImageStatusData,
    videoStatus: async (principal, taskId) =>
      (await statusOf(principal, taskId, "video")) as VideoStatusData,

    async credits(principal) {
      const view = await getAccountView(deps.db, principal.accountId, deps.clock.now());
      return {
        credits: view.available,
        total_credits: view.totalGranted,
        subscription: view.subscription
          ? { plan: view.subscription.plan, end_date: view.subscription.endsAt.toISOString() }
          : null,
        is_vip: view.isVip,
      };
    },

    async calculateCost(_principal, request) {
      return { type: request.type, credits_needed: nanobananaCredits(request) };
    },

    async models() {
      return nanobananaModelsList({ image: DEFAULT_IMAGE_MODEL, video: DEFAULT_VIDEO_MODEL });
    },
  });
}

/** A task's kind from its model; a model no longer served reads as an image. */
const kindOf = (task: Task) =>
  Object.hasOwn(models, task.model) ? models[task.model]!.kind : "image";

/**
 * Runs a create, naming a field Ripen's model refuses as the client sent it: `input.prompt` is
 * `prompt` (so it stays INVALID_PROMPT), `input.image_urls.0` is `image_url`.
 */
async function inDoorFields<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof InvalidRequest) || !error.field?.startsWith("input.")) throw error;
    const field = error.field.slice("input.".length).replace(/^image_urls(\.\d+)?$/, "image_url");
    throw new InvalidRequest(error.message.replaceAll(`'${error.field}'`, `'${field}'`), field);
  }
}
