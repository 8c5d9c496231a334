import {
  InvalidRequest,
  type Principal,
  type UsageArgs,
  type UsageGroup,
  type UsageRow,
  usage,
  usageGroups,
} from "@ripen/core";
import type { Executor } from "@ripen/db";
import type { Request, Response, Router } from "express";
import { z } from "zod";
import { orUnavailable } from "../doors/database-down";
import { sendCsv, wantsCsv } from "./csv";
import { nativeEnvelope } from "./envelope";
import { refuseUnknownParams } from "./v1_credits_ledger";
import { listParam, shown, timeParam } from "./v1_tasks_list";

/** What a client may group its own usage by (the operator may also group by account). */
const clientGroups = usageGroups.filter((g) => g !== "account");

/**
 * `group_by` (default `day`), `from` and `to` (tasks created in [from, to)), checked; any other
 * parameter but `format` and the `extra` ones is a 400 naming it.
 */
export function usageQuery(
  req: Request,
  groups: readonly UsageGroup[],
  extra: readonly string[] = [],
): Omit<UsageArgs, "accountId"> {
  const query = req.query as Record<string, unknown>;
  refuseUnknownParams(query, new Set(["group_by", "from", "to", "format", ...extra]));
  const groupBy = (listParam(query, "group_by") ?? ["day"]).map((group) => {
    if (!(groups as readonly string[]).includes(group)) {
      throw new InvalidRequest(
        `'group_by' must be one or more of ${groups.join(", ")} (got ${shown(group)}).`,
        "group_by",
      );
    }
    return group as UsageGroup;
  });
  return { groupBy, from: timeParam(query, "from"), to: timeParam(query, "to") };
}

/** Which columns a usage answer has: the groups asked for (in their fixed order), then figures. */
function usageColumns(groupBy: readonly UsageGroup[], figures: readonly string[]): string[] {
  return [...usageGroups.filter((g) => groupBy.includes(g)).map((g) => groupField[g]), ...figures];
}

const groupField: Record<UsageGroup, string> = {
  account: "account_id",
  key: "key_id",
  model: "model",
  door: "door",
  provider: "provider",
  day: "day",
};

/** A row on the wire: the groups asked for, then the figures (all of them; `pick` trims). */
function usageJson(row: UsageRow): Record<string, unknown> {
  const groups: Record<string, unknown> = {
    account_id: row.accountId,
    key_id: row.keyId,
    model: row.model,
    door: row.door,
    provider: row.provider,
    day: row.day,
  };
  return {
    ...Object.fromEntries(Object.entries(groups).filter(([, v]) => v !== undefined)),
    tasks: row.tasks,
    charged_credits: row.chargedCredits,
    charged_usd: row.chargedUsd,
    upstream_usd: row.upstreamUsd,
    margin_usd: row.marginUsd,
  };
}

/** Answers usage rows as JSON (`{usage: [...]}`) or CSV, with only `columns`. */
export async function sendUsage(
  req: Request,
  res: Response,
  args: UsageArgs,
  figures: readonly string[],
  db: Executor,
): Promise<void> {
  const columns = usageColumns(args.groupBy, figures);
  const pick = (row: UsageRow) => {
    const json = usageJson(row);
    return Object.fromEntries(columns.map((c) => [c, json[c] ?? null]));
  };
  const csv = wantsCsv(req);
  const rows = (await orUnavailable(() => usage(db, args))).map(pick);
  if (csv) {
    await sendCsv(
      res,
      "usage.csv",
      columns,
      (async function* () {
        yield rows;
      })(),
    );
    return;
  }
  res.json({ code: 200, msg: "success", data: { usage: rows } });
}

/** What a client sees of its own usage: what it ran and paid, not what it cost Ripen. */
const clientFigures = ["tasks", "charged_credits"] as const;

/**
 * `GET /v1/usage`: the caller's own usage: tasks and credits charged (captured), grouped by
 * `group_by` (one or more of day, model, door, key, provider; default day), over the tasks
 * created in [`from`, `to`). `?format=csv` or `Accept: text/csv` for CSV. Upstream costs and
 * margins are the operator's (`/admin/v1/usage`).
 */
export function registerV1Usage(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: { db: Executor },
): void {
  router.get("/v1/usage", async (req, res) => {
    const { accountId } = principalOf(req);
    const args = usageQuery(req, clientGroups);
    await sendUsage(req, res, { ...args, accountId }, clientFigures, deps.db);
  });
}

const usageQueryFields = {
  group_by: z
    .string()
    .optional()
    .meta({
      description: `One or more (comma-separated) of ${clientGroups.join(", ")}; default day`,
    }),
  from: z
    .string()
    .optional()
    .meta({ description: "Tasks created at or after (Unix seconds or RFC 3339)" }),
  to: z
    .string()
    .optional()
    .meta({ description: "Tasks created before (Unix seconds or RFC 3339)" }),
  format: z.enum(["json", "csv"]).optional().meta({ description: "`csv`: as `Accept: text/csv`" }),
};

export const usageQuerySchema = z.object(usageQueryFields);

const groupColumns = {
  key_id: z.string().nullable().optional(),
  model: z.string().optional(),
  door: z.string().optional(),
  provider: z.string().nullable().optional(),
  day: z.string().optional().meta({ description: "UTC, YYYY-MM-DD" }),
};

export const usageResponse = nativeEnvelope(
  z.object({
    usage: z.array(
      z
        .object({ ...groupColumns, tasks: z.int(), charged_credits: z.int() })
        .meta({ id: "UsageRow" }),
    ),
  }),
).meta({ id: "Usage" });

export const adminUsageQuerySchema = z.object({
  ...usageQueryFields,
  group_by: z
    .string()
    .optional()
    .meta({
      description: `One or more (comma-separated) of ${usageGroups.join(", ")}; default day`,
    }),
  account: z.string().optional().meta({ description: "One account's usage" }),
  credit_usd: z
    .string()
    .optional()
    .meta({ description: "Dollars per Ripen credit (default 0.005)" }),
});

export const adminUsageResponse = nativeEnvelope(
  z.object({
    usage: z.array(
      z
        .object({
          account_id: z.string().optional(),
          ...groupColumns,
          tasks: z.int(),
          charged_credits: z.int(),
          charged_usd: z.number(),
          upstream_usd: z.number(),
          margin_usd: z.number(),
        })
        .meta({ id: "AdminUsageRow" }),
    ),
  }),
).meta({ id: "AdminUsage" });
