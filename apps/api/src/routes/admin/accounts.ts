import {
  createAccountByOperator,
  getAccountView,
  InvalidRequest,
  isIdOf,
  listAccounts,
  updateAccount,
} from "@ripen/core";
import type { Request } from "express";
import { z } from "zod";
import { decodeCursor, encodeCursor } from "../cursor";
import { nativeEnvelope, unixTime } from "../envelope";
import type { AdminDeps, RegisterAdminRoutes } from "./deps";
import {
  accountIdOf,
  accountJson,
  accountSchema,
  bodyOf,
  credits,
  label,
  ok,
  unixSeconds,
} from "./shared";

export const ACCOUNT_LIST_LIMIT_DEFAULT = 20;
export const ACCOUNT_LIST_LIMIT_MAX = 100;

const maxActiveTasks = z.int().min(1).max(1_000_000).nullable();

export const createAccountRequest = z
  .strictObject({
    name: label(200),
    credits: credits.min(0).optional(),
    max_active_tasks: maxActiveTasks.optional(),
    is_vip: z.boolean().optional(),
  })
  .meta({ id: "AdminCreateAccountRequest" });

export const patchAccountRequest = z
  .strictObject({
    name: label(200).optional(),
    is_vip: z.boolean().optional(),
    max_active_tasks: maxActiveTasks.optional(),
    disabled: z.boolean().optional(),
  })
  .meta({ id: "AdminPatchAccountRequest" });

export const accountResponse = nativeEnvelope(accountSchema);

export const accountListResponse = nativeEnvelope(
  z.object({
    accounts: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        balance: z.int(),
        held: z.int(),
        available: z.int(),
        is_vip: z.boolean(),
        disabled_at: unixTime.nullable(),
        created_at: unixTime,
      }),
    ),
    next_cursor: z.string().nullable(),
  }),
).meta({ id: "AdminAccountList" });

function listQuery(req: Request): { limit: number; after?: string } {
  const query = req.query as Record<string, unknown>;
  const unknown = Object.keys(query).find((name) => name !== "limit" && name !== "cursor");
  if (unknown !== undefined) {
    throw new InvalidRequest(
      `'${unknown.slice(0, 64)}' is not a recognized parameter (use limit, cursor).`,
      unknown.slice(0, 64),
    );
  }
  let limit = ACCOUNT_LIST_LIMIT_DEFAULT;
  if (query.limit !== undefined) {
    limit = typeof query.limit === "string" && /^\d{1,3}$/.test(query.limit) ? +query.limit : 0;
    if (!(limit >= 1 && limit <= ACCOUNT_LIST_LIMIT_MAX)) {
      throw new InvalidRequest(
        `'limit' must be a whole number from 1 to ${ACCOUNT_LIST_LIMIT_MAX}.`,
        "limit",
      );
    }
  }
  if (query.cursor === undefined) return { limit };
  if (typeof query.cursor !== "string") {
    throw new InvalidRequest("'cursor' must be given once.", "cursor");
  }
  // The position is the account id itself: ids are time-sortable, the list is newest first.
  const [after] = decodeCursor(
    query.cursor,
    (position, id) => position === id && isIdOf("account", id),
  );
  return { limit, after };
}

/**
 * `/admin/v1/accounts`: create, list (newest first, cursor-paginated), show, change (`PATCH`:
 * name, `is_vip`, `max_active_tasks`, `disabled`), and `disable` / `enable` as their own verbs.
 */
export const registerAdminAccounts: RegisterAdminRoutes = (router, callerOf, deps) => {
  const show = async (accountId: string) =>
    ok(accountJson(await getAccountView(deps.db, accountId, deps.clock.now())));

  router.post("/accounts", async (req, res) => {
    const body = bodyOf(createAccountRequest, req);
    const { actor } = callerOf(req);
    const { accountId } = await createAccountByOperator(deps.db, {
      name: body.name,
      credits: body.credits,
      maxActiveTasks: body.max_active_tasks,
      isVip: body.is_vip,
      actor,
    });
    logChange(deps, actor, "account.created", { accountId, credits: body.credits ?? 0 });
    res.json(await show(accountId));
  });

  router.get("/accounts", async (req, res) => {
    const page = await listAccounts(deps.db, listQuery(req));
    res.json(
      ok({
        accounts: page.accounts.map((a) => ({
          id: a.id,
          name: a.name,
          balance: a.balance,
          held: a.held,
          available: a.available,
          is_vip: a.isVip,
          disabled_at: a.disabledAt ? unixSeconds(a.disabledAt) : null,
          created_at: unixSeconds(a.createdAt),
        })),
        next_cursor: page.next ? encodeCursor(page.next, page.next) : null,
      }),
    );
  });

  router.get("/accounts/:accountId", async (req, res) => {
    res.json(await show(accountIdOf(req)));
  });

  router.patch("/accounts/:accountId", async (req, res) => {
    const accountId = accountIdOf(req);
    const body = bodyOf(patchAccountRequest, req);
    await updateAccount(
      deps.db,
      accountId,
      {
        name: body.name,
        isVip: body.is_vip,
        maxActiveTasks: body.max_active_tasks,
        disabled: body.disabled,
      },
      deps.clock.now(),
    );
    logChange(deps, callerOf(req).actor, "account.changed", { accountId, changes: body });
    res.json(await show(accountId));
  });

  for (const [verb, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    router.post(`/accounts/:accountId/${verb}`, async (req, res) => {
      const accountId = accountIdOf(req);
      await updateAccount(deps.db, accountId, { disabled }, deps.clock.now());
      logChange(deps, callerOf(req).actor, `account.${verb}d`, { accountId });
      res.json(await show(accountId));
    });
  }
};

/**
 * Every admin change is logged with its actor (ledger movements also carry it in their row).
 */
export function logChange(
  deps: Pick<AdminDeps, "logger">,
  actor: string,
  event: string,
  fields: Record<string, unknown>,
): void {
  deps.logger.info({ event, actor, ...fields }, `admin: ${event}`);
}
