import {
  AccountNotFound,
  type AccountView,
  InvalidRequest,
  invalidFromZod,
  isIdOf,
  type SubscriptionView,
  storableString,
} from "@ripen/core";
import type { Request } from "express";
import { z } from "zod";
import { unixTime } from "../envelope";

/** `req.body` checked against the endpoint's one schema; a 400 naming the first bad field. */
export function bodyOf<T extends z.ZodType>(schema: T, req: Request): z.infer<T> {
  // A POST without a body (`rotate`, `disable`) reads as an empty object.
  const body = (req.body ?? {}) as unknown;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidRequest("Request body must be a JSON object.");
  }
  const parsed = schema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw invalidFromZod(parsed.error);
  return parsed.data;
}

/** The `:accountId` of the path; anything `newId` could not have made is not found, unqueried. */
export function accountIdOf(req: Request): string {
  const accountId = req.params.accountId as string;
  if (!isIdOf("account", accountId)) throw new AccountNotFound(accountId);
  return accountId;
}

/** A reason or a name: text Postgres can store, not blank, at most `max` characters. */
export const label = (max: number) =>
  storableString()
    .refine((s) => s.trim().length > 0, "must not be empty")
    .refine((s) => [...s].length <= max, `must be at most ${max} characters`);

/** Credits: a whole number, within what Postgres's bigint and JSON's numbers both carry. */
export const credits = z.int({ error: "must be a whole number of credits" });

export const unixSeconds = (date: Date) => Math.floor(date.getTime() / 1000);
const unixOrNull = (date: Date | null) => (date ? unixSeconds(date) : null);

/** The success envelope of the native API, which the admin API shares. */
export const ok = <T>(data: T) => ({ code: 200, msg: "success", data });

export function subscriptionJson(s: SubscriptionView) {
  return {
    id: s.id,
    account_id: s.accountId,
    plan: s.plan,
    plan_id: s.planId,
    monthly_credits: s.monthlyCredits,
    starts_at: unixSeconds(s.startsAt),
    ends_at: unixSeconds(s.endsAt),
    canceled_at: unixOrNull(s.canceledAt),
  };
}

export const subscriptionSchema = z
  .object({
    id: z.string(),
    account_id: z.string(),
    plan: z.string(),
    plan_id: z.string(),
    monthly_credits: z.int(),
    starts_at: unixTime,
    ends_at: unixTime,
    canceled_at: unixTime.nullable(),
  })
  .meta({ id: "AdminSubscription" });

export function accountJson(a: AccountView) {
  return {
    id: a.id,
    name: a.name,
    balance: a.balance,
    held: a.held,
    available: a.available,
    total_granted: a.totalGranted,
    active_tasks: a.activeTasks,
    max_active_tasks: a.maxActiveTasks,
    is_vip: a.isVip,
    disabled_at: unixOrNull(a.disabledAt),
    subscription: a.subscription ? subscriptionJson(a.subscription) : null,
    keys: a.keys,
    created_at: unixSeconds(a.createdAt),
  };
}

export const accountSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    balance: z.int(),
    held: z.int(),
    available: z.int(),
    total_granted: z.int(),
    active_tasks: z.int(),
    max_active_tasks: z.int().nullable(),
    is_vip: z.boolean(),
    disabled_at: unixTime.nullable(),
    subscription: subscriptionSchema.nullable(),
    keys: z.int().meta({ description: "API keys not revoked" }),
    created_at: unixTime,
  })
  .meta({ id: "AdminAccount" });
