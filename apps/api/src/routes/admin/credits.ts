import { adjustCredits, getCredits, grantCredits } from "@ripen/core";
import { z } from "zod";
import { nativeEnvelope } from "../envelope";
import { logChange } from "./accounts";
import type { RegisterAdminRoutes } from "./deps";
import { accountIdOf, bodyOf, credits, label, ok } from "./shared";

/**
 * The operator's idempotency key, scoped to the account and the verb: the ledger's keys are
 * global, and one account's key must never silence another's grant.
 */
const idempotencyKey = label(200).optional();
const ledgerKeyOf = (verb: string, accountId: string, key: string | undefined) =>
  key === undefined ? undefined : `admin-${verb}:${accountId}:${key}`;

export const grantRequest = z
  .strictObject({
    amount: credits.min(1, "must be at least 1").max(Number.MAX_SAFE_INTEGER),
    reason: label(500),
    idempotency_key: idempotencyKey,
  })
  .meta({ id: "AdminGrantRequest" });

export const adjustmentRequest = z
  .strictObject({
    amount: credits
      .min(-Number.MAX_SAFE_INTEGER)
      .max(Number.MAX_SAFE_INTEGER)
      .refine((n) => n !== 0, "must not be 0"),
    reason: label(500),
    idempotency_key: idempotencyKey,
  })
  .meta({ id: "AdminAdjustmentRequest" });

export const creditMovementResponse = nativeEnvelope(
  z.object({
    account_id: z.string(),
    amount: z.int(),
    /** False when the idempotency key was already used: nothing moved this time. */
    applied: z.boolean(),
    balance: z.int(),
    held: z.int(),
    available: z.int(),
  }),
).meta({ id: "AdminCreditMovement" });

/**
 * `POST /admin/v1/accounts/{id}/grants` (positive) and `/adjustments` (signed; a negative one
 * never takes available credits below 0: 409). Each is a ledger row carrying the reason (`memo`)
 * and the actor.
 */
export const registerAdminCredits: RegisterAdminRoutes = (router, callerOf, deps) => {
  router.post("/accounts/:accountId/grants", async (req, res) => {
    const accountId = accountIdOf(req);
    const body = bodyOf(grantRequest, req);
    const { actor } = callerOf(req);
    const applied = await grantCredits(deps.db, {
      accountId,
      amount: body.amount,
      memo: body.reason,
      actor,
      idempotencyKey: ledgerKeyOf("grant", accountId, body.idempotency_key),
    });
    if (applied) logChange(deps, actor, "credits.granted", { accountId, amount: body.amount });
    const after = await getCredits(deps.db, accountId);
    res.json(ok({ account_id: accountId, amount: body.amount, applied, ...after }));
  });

  router.post("/accounts/:accountId/adjustments", async (req, res) => {
    const accountId = accountIdOf(req);
    const body = bodyOf(adjustmentRequest, req);
    const { actor } = callerOf(req);
    const applied = await adjustCredits(deps.db, {
      accountId,
      amount: body.amount,
      reason: body.reason,
      actor,
      idempotencyKey: ledgerKeyOf("adjustment", accountId, body.idempotency_key),
    });
    if (applied) logChange(deps, actor, "credits.adjusted", { accountId, amount: body.amount });
    const after = await getCredits(deps.db, accountId);
    res.json(ok({ account_id: accountId, amount: body.amount, applied, ...after }));
  });
};
