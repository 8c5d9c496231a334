import {
  InvalidRequest,
  isIdOf,
  type LedgerStatementArgs,
  type LedgerStatementEntry,
  type LedgerStatementPosition,
  ledgerStatement,
  type Principal,
} from "@ripen/core";
import { type Executor, type LedgerEntryKind, ledgerEntryKinds } from "@ripen/db";
import type { Request, Router } from "express";
import { z } from "zod";
import { orUnavailable } from "../doors/database-down";
import { sendCsv, wantsCsv } from "./csv";
import { decodeCursor, encodeCursor } from "./cursor";
import { nativeEnvelope, unixTime } from "./envelope";
import { limitParam, listParam, shown, singleParam, timeParam } from "./v1_tasks_list";

/** Entries read per query while a CSV export streams. */
const CSV_BATCH = 1000;

const knownParams = new Set(["kind", "from", "to", "limit", "cursor", "format"]);

/** A 400 naming the first parameter the endpoint does not know. */
export function refuseUnknownParams(query: Record<string, unknown>, known: Set<string>): void {
  const unknown = Object.keys(query).find((name) => !known.has(name));
  if (unknown !== undefined) {
    const use = known.size > 0 ? `use ${[...known].join(", ")}` : "this endpoint takes none";
    throw new InvalidRequest(
      `${shown(unknown)} is not a recognized parameter (${use}).`,
      unknown.slice(0, 64),
    );
  }
}

/**
 * The cursor: base64url of `[position, entry id]`, the position being the last entry's time in
 * microseconds and the balance and held credits before it (`micros.balance.held`), from which the
 * next page's running totals continue.
 */
const encodeLedgerCursor = (p: LedgerStatementPosition) =>
  encodeCursor(`${p.createdAtMicros}.${p.balanceBefore}.${p.heldBefore}`, p.id);

function decodeLedgerCursor(cursor: string): LedgerStatementPosition {
  const [position, id] = decodeCursor(
    cursor,
    (position, entryId) =>
      /^-?\d{1,18}\.-?\d{1,16}\.-?\d{1,16}$/.test(position) && isIdOf("ledger", entryId),
  );
  const [micros, balance, held] = position.split(".") as [string, string, string];
  return {
    createdAtMicros: BigInt(micros),
    id,
    balanceBefore: Number(balance),
    heldBefore: Number(held),
  };
}

function kindsParam(query: Record<string, unknown>): LedgerEntryKind[] | undefined {
  return listParam(query, "kind")?.map((kind) => {
    if (!(ledgerEntryKinds as readonly string[]).includes(kind)) {
      throw new InvalidRequest(
        `'kind' must be one or more of ${ledgerEntryKinds.join(", ")} (got ${shown(kind)}).`,
        "kind",
      );
    }
    return kind as LedgerEntryKind;
  });
}

const entryJson = (e: LedgerStatementEntry) => ({
  id: e.id,
  kind: e.kind,
  amount: e.amount,
  balance_change: e.balanceChange,
  held_change: e.heldChange,
  balance_after: e.balanceAfter,
  held_after: e.heldAfter,
  task_id: e.taskId,
  batch_id: e.batchId,
  reason: e.reason,
  actor: e.actor,
  created_at: Math.floor(e.createdAt.getTime() / 1000),
});

const csvColumns = [
  "created_at",
  "id",
  "kind",
  "amount",
  "balance_change",
  "held_change",
  "balance_after",
  "held_after",
  "task_id",
  "batch_id",
  "reason",
  "actor",
] as const;

/** A CSV row: the JSON entry with its time in RFC 3339, for spreadsheets. */
const entryCsv = (e: LedgerStatementEntry) => ({
  ...entryJson(e),
  created_at: e.createdAt.toISOString(),
});

/** Every entry of the range, a query of `CSV_BATCH` at a time. */
async function* allEntries(
  db: Executor,
  args: Omit<LedgerStatementArgs, "limit" | "after">,
): AsyncGenerator<ReturnType<typeof entryCsv>[]> {
  let after: LedgerStatementPosition | undefined;
  do {
    const page = await orUnavailable(() =>
      ledgerStatement(db, { ...args, after, limit: CSV_BATCH }),
    );
    yield page.entries.map(entryCsv);
    after = page.next ?? undefined;
  } while (after);
}

/**
 * `GET /v1/credits/ledger`: the caller's account statement, newest first: every grant, hold,
 * capture, release and adjustment, with its signed effect on the balance and on the held
 * credits, the totals right after it, its task and batch, and a grant's or adjustment's reason
 * and actor. Filters `kind` (one or several), `from` (at or after), `to` (before), `limit`
 * (1–100, 20), `cursor` (`next_cursor`). `?format=csv` or `Accept: text/csv`: the whole range as
 * a CSV download (no `limit` or `cursor`).
 */
export function registerV1CreditsLedger(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: { db: Executor },
): void {
  router.get("/v1/credits/ledger", async (req, res) => {
    const { accountId } = principalOf(req);
    const query = req.query as Record<string, unknown>;
    refuseUnknownParams(query, knownParams);
    const range = {
      accountId,
      kinds: kindsParam(query),
      from: timeParam(query, "from"),
      to: timeParam(query, "to"),
    };
    if (wantsCsv(req)) {
      for (const name of ["limit", "cursor"]) {
        if (query[name] !== undefined) {
          throw new InvalidRequest(`'${name}' does not apply to CSV: it is the whole range.`, name);
        }
      }
      await sendCsv(res, "ledger.csv", csvColumns, allEntries(deps.db, range));
      return;
    }
    const cursor = singleParam(query, "cursor");
    const page = await orUnavailable(() =>
      ledgerStatement(deps.db, {
        ...range,
        limit: limitParam(query),
        after: cursor === undefined ? undefined : decodeLedgerCursor(cursor),
      }),
    );
    res.json({
      code: 200,
      msg: "success",
      data: {
        entries: page.entries.map(entryJson),
        next_cursor: page.next ? encodeLedgerCursor(page.next) : null,
      },
    } satisfies z.input<typeof ledgerStatementResponse>);
  });
}

/** `GET /v1/credits/ledger`'s query, for the OpenAPI document (the handler checks it above). */
export const ledgerStatementQuery = z.object({
  kind: z
    .string()
    .optional()
    .meta({ description: `One or more (comma-separated) of ${ledgerEntryKinds.join(", ")}` }),
  from: z.string().optional().meta({ description: "Unix seconds or RFC 3339, inclusive" }),
  to: z.string().optional().meta({ description: "Unix seconds or RFC 3339, exclusive" }),
  limit: z.string().optional().meta({ description: "1–100, default 20 (JSON only)" }),
  cursor: z.string().optional().meta({ description: "`next_cursor` of the previous page" }),
  format: z
    .enum(["json", "csv"])
    .optional()
    .meta({ description: "`csv`: the whole range as CSV (as `Accept: text/csv`)" }),
});

export const ledgerEntrySchema = z
  .object({
    id: z.string(),
    kind: z.enum(ledgerEntryKinds),
    amount: z.int().meta({ description: "Credits; an adjustment's is signed" }),
    balance_change: z.int().meta({ description: "Signed effect on the balance" }),
    held_change: z.int().meta({ description: "Signed effect on the held credits" }),
    balance_after: z.int(),
    held_after: z.int(),
    task_id: z.string().nullable(),
    batch_id: z.string().nullable(),
    reason: z.string().nullable(),
    actor: z.string().nullable(),
    created_at: unixTime,
  })
  .meta({ id: "LedgerEntry" });

export const ledgerStatementResponse = nativeEnvelope(
  z.object({ entries: z.array(ledgerEntrySchema), next_cursor: z.string().nullable() }),
).meta({ id: "LedgerStatement" });
