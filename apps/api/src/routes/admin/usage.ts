import {
  AccountNotFound,
  DEFAULT_CREDIT_USD,
  InvalidRequest,
  isIdOf,
  usageGroups,
} from "@ripen/core";
import { sendUsage, usageQuery } from "../v1_usage";
import type { RegisterAdminRoutes } from "./deps";

const adminFigures = [
  "tasks",
  "charged_credits",
  "charged_usd",
  "upstream_usd",
  "margin_usd",
] as const;

function creditUsdParam(raw: unknown): number {
  if (raw === undefined) return DEFAULT_CREDIT_USD;
  const value = typeof raw === "string" && /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value > 0)) {
    throw new InvalidRequest("'credit_usd' must be a positive number of dollars.", "credit_usd");
  }
  return value;
}

/**
 * `GET /admin/v1/usage`: every account's usage (or one's, `account=`): tasks, credits charged,
 * their dollars at `credit_usd` per credit (default aivideoapi's $0.005), upstream cost and
 * margin, grouped by `group_by` (account, key, model, door, provider, day; default day) over the
 * tasks created in [`from`, `to`). CSV with `?format=csv` or `Accept: text/csv`.
 */
export const registerAdminUsage: RegisterAdminRoutes = (router, _callerOf, deps) => {
  router.get("/usage", async (req, res) => {
    const args = usageQuery(req, usageGroups, ["account", "credit_usd"]);
    const account = req.query.account;
    if (account !== undefined && (typeof account !== "string" || !isIdOf("account", account))) {
      throw new AccountNotFound(String(account));
    }
    const creditUsd = creditUsdParam(req.query.credit_usd);
    await sendUsage(req, res, { ...args, accountId: account, creditUsd }, adminFigures, deps.db);
  });
};
