import { type Clock, InvalidRequest, type Principal, prepareBatch, prepareTask } from "@ripen/core";
import { createRequestOf, createTaskRequest } from "@ripen/dialect-aivideoapi";
import { getModel } from "@ripen/models";
import type { UrlPolicy } from "@ripen/net";
import type { Request, Router } from "express";
import { z } from "zod";
import { doorPricing, type PricedDoor, pricedDoors, priceThroughDoor } from "../doors/pricing";
import { checkCreateUrls } from "../doors/user-urls";
import { batchBodyOf } from "./v1_batches";

const doors = ["native", ...pricedDoors] as const;

/** `?door=`: whose price list applies (default native). */
export const costQuery = z.strictObject({
  door: z.enum(doors).optional().meta({
    description:
      "Price the door's own create body with its price list (nanobanana: a calculate-cost body with `type`). Default: a native create or batch body.",
  }),
});

/** A native create body or a batch body, as `POST /v1/{kind}s/generations` and `/v1/batches` take. */
export const costRequest = z
  .union([
    createTaskRequest,
    z.strictObject({
      requests: z.array(z.unknown()).min(1),
      partial: z.boolean().optional(),
      callback_url: z.string().nullish(),
    }),
    z.record(z.string(), z.unknown()).meta({ description: "A door's create body (`?door=`)." }),
  ])
  .meta({ id: "CostRequest" });

const batchItemCost = z.object({ index: z.int(), model: z.string(), credits: z.int() });
const rejectedItem = z.object({
  index: z.int(),
  field: z.string().optional(),
  code: z.string(),
  message: z.string(),
});

export const costData = z
  .looseObject({
    /** What the create would hold (a batch: the total of its accepted items). */
    credits: z.int(),
    /** The Ripen model priced (a batch: absent; each item names its own). */
    model: z.string().optional(),
    kind: z.enum(["image", "video"]).optional(),
    door: z.enum(doors),
    /** The input as the model reads it, defaults filled in (native creates). */
    input: z.record(z.string(), z.unknown()).optional(),
    items: z.array(batchItemCost).optional(),
    rejected: z.array(rejectedItem).optional(),
  })
  .meta({ id: "CostData" });
export type CostData = z.infer<typeof costData>;

export const costResponse = z
  .object({ code: z.number(), msg: z.string(), data: costData })
  .meta({ id: "CostResponse" });

function doorOf(req: Request): (typeof doors)[number] {
  const parsed = costQuery.safeParse(req.query);
  if (parsed.success) return parsed.data.door ?? "native";
  const issue = parsed.error.issues[0];
  const field = issue?.code === "unrecognized_keys" ? String(issue.keys[0]).slice(0, 64) : "door";
  throw new InvalidRequest(
    field === "door"
      ? `'door' must be given once, as one of ${doors.join(", ")}.`
      : `'${field}' is not a recognized parameter (use door).`,
    field,
  );
}

const isBatchBody = (body: unknown) =>
  typeof body === "object" && body !== null && !Array.isArray(body) && "requests" in body;

/**
 * `POST /v1/cost`: what a create or a batch would hold, without creating it, priced by the very
 * functions the creates charge with (`prepareTask`, `prepareBatch`, a door's own pricing), so a
 * quote and a charge cannot differ. Refused bodies are refused as the create would refuse them.
 */
export function registerV1Cost(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: { clock: Clock; userUrls?: UrlPolicy },
): void {
  const userUrls = deps.userUrls ?? { allowLoopback: false };
  const checkUrls = (callbackUrl: unknown, input: unknown) =>
    checkCreateUrls(callbackUrl, input, userUrls);

  router.post("/v1/cost", (req, res) => {
    const principal = principalOf(req);
    const door = doorOf(req);
    let data: CostData;
    if (door !== "native") data = quoteThroughDoor(door, req.body);
    else if (isBatchBody(req.body)) {
      const batch = prepareBatch(
        {
          accountId: principal.accountId,
          apiKeyId: principal.keyId,
          ...batchBodyOf(req.body),
          resolveModel: getModel,
          checkUrls,
        },
        deps.clock.now(),
      );
      data = {
        credits: batch.total,
        door,
        items: batch.prepared.map((task, i) => ({
          index: batch.indexes[i]!,
          model: task.model,
          credits: task.price,
        })),
        rejected: batch.rejected,
      };
    } else {
      // The native create's own steps (createNativeTask → createTaskThroughDoor → prepareTask),
      // less the write; the model may be of either kind, as either endpoint would take it.
      const request = createRequestOf(req);
      const model = getModel(request.model);
      checkUrls(request.callback_url, request.input);
      const task = prepareTask({
        accountId: principal.accountId,
        apiKeyId: principal.keyId,
        model,
        input: request.input,
        callbackUrl: request.callback_url ?? null,
        timeoutSeconds: request.timeout_seconds,
        now: deps.clock.now(),
      });
      data = { credits: task.price, model: model.id, kind: model.kind, door, input: task.input };
    }
    res.json({ code: 200, msg: "success", data } satisfies z.input<typeof costResponse>);
  });
}

function quoteThroughDoor(door: PricedDoor, body: unknown): CostData {
  const { model, credits, ...rest } = priceThroughDoor(doorPricing[door], body);
  return { ...rest, credits, model, door };
}
