import {
  cancelSubscription,
  createPlan,
  getAccountView,
  InvalidRequest,
  listPlans,
  listSubscriptions,
  startSubscription,
} from "@ripen/core";
import type { Plan } from "@ripen/db";
import { z } from "zod";
import { nativeEnvelope, unixTime } from "../envelope";
import { logChange } from "./accounts";
import type { RegisterAdminRoutes } from "./deps";
import {
  accountIdOf,
  bodyOf,
  credits,
  label,
  ok,
  subscriptionJson,
  subscriptionSchema,
  unixSeconds,
} from "./shared";

export const createPlanRequest = z
  .strictObject({
    name: label(100),
    monthly_credits: credits.min(0).max(Number.MAX_SAFE_INTEGER),
  })
  .meta({ id: "AdminCreatePlanRequest" });

const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** Unix seconds (as every time in the native API) or an RFC 3339 timestamp. */
const instant = z
  .union([
    z.int().min(0).max(253_402_300_799),
    z.string().regex(rfc3339, "must be Unix seconds or an RFC 3339 timestamp"),
  ])
  .transform((value) => (typeof value === "number" ? new Date(value * 1000) : new Date(value)));

export const startSubscriptionRequest = z
  .strictObject({
    plan: label(100).meta({ description: "The plan's id or name" }),
    ends_at: instant.optional(),
    months: z.int().min(1).max(1200).optional(),
  })
  .meta({ id: "AdminStartSubscriptionRequest" });

const planSchema = z
  .object({ id: z.string(), name: z.string(), monthly_credits: z.int(), created_at: unixTime })
  .meta({ id: "AdminPlan" });
export const planResponse = nativeEnvelope(planSchema);
export const planListResponse = nativeEnvelope(z.object({ plans: z.array(planSchema) }));
export const subscriptionResponse = nativeEnvelope(subscriptionSchema);
export const subscriptionListResponse = nativeEnvelope(
  z.object({ subscriptions: z.array(subscriptionSchema) }),
);

const planJson = (plan: Plan) => ({
  id: plan.id,
  name: plan.name,
  monthly_credits: plan.monthlyCredits,
  created_at: unixSeconds(plan.createdAt),
});

/**
 * Plans (`/admin/v1/plans`) and each account's subscriptions
 * (`/admin/v1/accounts/{id}/subscriptions`): starting one grants the plan's first month at once;
 * the worker grants each later month when it begins (`grantDueSubscriptionMonths`).
 */
export const registerAdminPlans: RegisterAdminRoutes = (router, callerOf, deps) => {
  router.post("/plans", async (req, res) => {
    const body = bodyOf(createPlanRequest, req);
    const plan = await createPlan(deps.db, {
      name: body.name,
      monthlyCredits: body.monthly_credits,
    });
    logChange(deps, callerOf(req).actor, "plan.created", { planId: plan.id, name: plan.name });
    res.json(ok(planJson(plan)));
  });

  router.get("/plans", async (_req, res) => {
    res.json(ok({ plans: (await listPlans(deps.db)).map(planJson) }));
  });

  router.post("/accounts/:accountId/subscriptions", async (req, res) => {
    const accountId = accountIdOf(req);
    const body = bodyOf(startSubscriptionRequest, req);
    if ((body.ends_at === undefined) === (body.months === undefined)) {
      throw new InvalidRequest("Give exactly one of 'ends_at' and 'months'.", "ends_at");
    }
    const { actor } = callerOf(req);
    const subscription = await startSubscription(deps.db, {
      accountId,
      plan: body.plan,
      endsAt: body.ends_at,
      months: body.months,
      now: deps.clock.now(),
      actor,
    });
    logChange(deps, actor, "subscription.started", {
      accountId,
      subscriptionId: subscription.id,
      plan: subscription.plan,
    });
    res.json(ok(subscriptionJson(subscription)));
  });

  router.get("/accounts/:accountId/subscriptions", async (req, res) => {
    const accountId = accountIdOf(req);
    // A missing account is a 404, not an empty list.
    await getAccountView(deps.db, accountId, deps.clock.now());
    const subscriptions = await listSubscriptions(deps.db, accountId);
    res.json(ok({ subscriptions: subscriptions.map(subscriptionJson) }));
  });

  router.post("/accounts/:accountId/subscriptions/:subscriptionId/cancel", async (req, res) => {
    const accountId = accountIdOf(req);
    const subscription = await cancelSubscription(deps.db, {
      accountId,
      subscriptionId: req.params.subscriptionId as string,
      now: deps.clock.now(),
    });
    logChange(deps, callerOf(req).actor, "subscription.canceled", {
      accountId,
      subscriptionId: subscription.id,
    });
    res.json(ok(subscriptionJson(subscription)));
  });
};
