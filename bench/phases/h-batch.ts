import type { Phase } from "../lib/context";
import { cpuPer, cpuSpent, readCpu } from "../lib/cpu";
import { createAccounts } from "../lib/infra";
import { log, plan, quick } from "../lib/plan";
import { waitUntil } from "../lib/processes";
import { int, ms } from "../lib/report";

/** The batch size issue 14's target is stated for; a --quick run's smaller batch is not judged. */
const TARGET_ITEMS = 10_000;

/**
 * One account's batch at the sandbox's generation 0, nothing else running: how long the create
 * takes to be accepted, and how long after that the batch ends (every item settled).
 */
export const batch: Phase = {
  letter: "h",
  title: "batch",
  needs: { system: { generationMs: 0, callbackLossRate: 0 } },
  async run(ctx) {
    const { ripen } = ctx;
    const { db } = ripen;
    const owner = await createAccounts(db, 1, "bench-h");
    const batchUrl = `${ripen.apiUrl}/v1/batches`;
    const auth = { authorization: `Bearer ${owner.keys[0]}` };
    log(`h: a ${int(plan.batchItems)}-item batch on one account`);
    const body = JSON.stringify({
      requests: Array.from({ length: plan.batchItems }, (_, i) => ({
        model: "nano-banana-2",
        input: { prompt: `a batch cat ${i}` },
      })),
    });
    const cpuBefore = readCpu();
    const posted = performance.now();
    const answer = await fetch(batchUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body,
    });
    const created = ((await answer.json()) as { data?: { id?: string } }).data;
    const accepted = performance.now();
    if (!created?.id) throw new Error(`batch create answered ${answer.status}`);
    const id = created.id;

    const limitMs = quick ? 60_000 : 120_000;
    const ended = await waitUntil("the batch to end", limitMs, async () => {
      const { rows } = await db.pool.query<{ state: string }>(
        "select state from batches where id = $1",
        [id],
      );
      return rows[0]?.state !== "running";
    })
      .then(() => true)
      .catch(() => false);
    const endedAfterS = (performance.now() - accepted) / 1000;
    const cpuAfter = readCpu();
    const { rows } = await db.pool.query<{ status: string; n: number }>(
      "select status, count(*)::int as n from tasks where batch_id = $1 group by status",
      [id],
    );
    const counts = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    const recorded = await db.pool.query<{ s: number | null }>(
      "select extract(epoch from (ended_at - created_at))::float8 as s from batches where id = $1",
      [id],
    );
    if (!ended) await fetch(`${batchUrl}/${id}/cancel`, { method: "POST", headers: auth });
    const succeeded = counts.succeeded ?? 0;
    // Per item that ended (whatever the ending), so a canceled run still compares.
    const endedItems =
      plan.batchItems - (counts.queued ?? 0) - (counts.submitting ?? 0) - (counts.running ?? 0);
    // The driver's own CPU (polling Postgres for the end) is not the batch's.
    const spent = cpuSpent(cpuBefore, cpuAfter);
    spent.delete("bench driver");
    const cpu = cpuPer(spent, endedItems);
    const figure = ended ? endedAfterS : Number.POSITIVE_INFINITY;
    return {
      title: `batch: one account's ${int(plan.batchItems)}-item batch, sandbox generation 0, nothing else running`,
      header: [
        "items",
        "accepted in ms",
        "ended s after accepted",
        "ended_at − created_at s",
        "succeeded",
        "items/s",
      ],
      rows: [
        [
          int(plan.batchItems),
          ms(accepted - posted),
          ended ? endedAfterS.toFixed(1) : `> ${(limitMs / 1000).toFixed(0)}`,
          recorded.rows[0]?.s == null ? "—" : recorded.rows[0].s.toFixed(1),
          int(succeeded),
          int(succeeded / endedAfterS),
        ],
      ],
      notes: [
        `CPU ms per item, create to end: ${cpu.map((row) => `${row.role} ${row.ms.toFixed(2)}`).join(", ")}`,
        ...(ended
          ? []
          : [
              `(not ended within ${limitMs / 1000} s, then canceled: ${Object.entries(counts)
                .map(([s, n]) => `${s} ${int(n)}`)
                .join(", ")})`,
            ]),
      ],
      measured: {
        batch: {
          value: figure,
          ...(plan.batchItems === TARGET_ITEMS
            ? {}
            : { notJudged: `${int(plan.batchItems)} items with --quick` }),
        },
      },
    };
  },
};
