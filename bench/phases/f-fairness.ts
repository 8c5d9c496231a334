import type { Phase } from "../lib/context";
import { createAccounts } from "../lib/infra";
import { ACCOUNTS, CREATE_BODY, log, plan, quick } from "../lib/plan";
import { waitUntil } from "../lib/processes";
import { int, ms, percentile, ratio, sortedCopy } from "../lib/report";

/**
 * Interactive completion p99 alone, and right after a large batch was accepted, with their ratio
 * and how many batch items were still waiting when the last interactive task ended.
 */
export const fairness: Phase = {
  letter: "f",
  title: "fairness",
  needs: { system: { generationMs: 0, callbackLossRate: 0 } },
  async run(ctx) {
    const { ripen } = ctx;
    const { db } = ripen;
    const interactive = await createAccounts(db, ACCOUNTS, "bench-f");
    const batchOwner = await createAccounts(db, 1, "bench-f-batch");
    const batchUrl = `${ripen.apiUrl}/v1/batches`;
    /** Creates the interactive tasks at once; their completion times from Postgres, sorted. */
    const interactiveRound = async (keys: string[]) => {
      const ids = await Promise.all(
        Array.from({ length: plan.fairnessInteractive }, async (_, i) => {
          const res = await fetch(ripen.createUrl, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              authorization: `Bearer ${keys[i % keys.length]}`,
            },
            body: CREATE_BODY,
          });
          const body = (await res.json()) as { data?: { taskId?: string } };
          if (!body.data?.taskId) throw new Error(`create answered ${res.status}`);
          return body.data.taskId;
        }),
      );
      const completionMs = async () => {
        const { rows } = await db.pool.query<{ ms: number | null }>(
          `select (extract(epoch from (completed_at - created_at)) * 1000)::float8 as ms
           from tasks where id = any($1) and status in ('succeeded', 'failed', 'expired')`,
          [ids],
        );
        return rows.map((r) => r.ms ?? 0);
      };
      await waitUntil("the interactive tasks", quick ? 60_000 : 120_000, async () => {
        return (await completionMs()).length === ids.length;
      });
      return {
        completion: (await completionMs()).sort((a, b) => a - b),
        stages: await stagesOf(ids),
      };
    };
    /**
     * Where the tasks' time went, p99 of each stage from their events: created → picked by the
     * worker (submitting), → accepted upstream (running), → ended (the callback).
     */
    const stagesOf = async (ids: string[]) => {
      const { rows } = await db.pool.query<{ picked: number; submitted: number; ended: number }>(
        `select
           extract(epoch from (max(e.created_at) filter (where e.to_status = 'submitting') - t.created_at)) * 1000 as picked,
           extract(epoch from (max(e.created_at) filter (where e.to_status = 'running')
             - max(e.created_at) filter (where e.to_status = 'submitting'))) * 1000 as submitted,
           extract(epoch from (t.completed_at - max(e.created_at) filter (where e.to_status = 'running'))) * 1000 as ended
         from tasks t join task_events e on e.task_id = t.id
         where t.id = any($1) group by t.id`,
        [ids],
      );
      const p99 = (key: "picked" | "submitted" | "ended") =>
        percentile(sortedCopy(rows.map((r) => Number(r[key] ?? 0))), 0.99);
      return `to picked ${ms(p99("picked"))}, picked to accepted ${ms(p99("submitted"))}, accepted to ended ${ms(p99("ended"))}`;
    };
    // A round not counted first: run cold (f alone), the first round took 2.5× as long as a
    // warm one, which made any batch look fair.
    log(`f: ${plan.fairnessInteractive} interactive tasks to warm up, not counted`);
    await interactiveRound(interactive.keys);
    log(`f: ${plan.fairnessInteractive} interactive tasks alone`);
    const { completion: alone, stages: aloneStages } = await interactiveRound(interactive.keys);
    log(
      `f: a ${int(plan.fairnessBatch)}-item batch, then ${plan.fairnessInteractive} interactive tasks`,
    );
    // The batch's own account creates too: its batch must not starve its own interactive work.
    const started = performance.now();
    const batchRes = await fetch(batchUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${batchOwner.keys[0]}`,
      },
      body: JSON.stringify({
        requests: Array.from({ length: plan.fairnessBatch }, (_, i) => ({
          model: "nano-banana-2",
          input: { prompt: `a batch cat ${i}` },
        })),
      }),
    });
    const acceptMs = performance.now() - started;
    const batch = ((await batchRes.json()) as { data?: { id?: string } }).data;
    if (!batch?.id) throw new Error(`batch create answered ${batchRes.status}`);
    const { completion: during, stages: duringStages } = await interactiveRound([
      ...interactive.keys,
      batchOwner.keys[0]!,
    ]);
    const left = await db.pool.query<{ n: number }>(
      "select count(*)::int as n from tasks where batch_id = $1 and status in ('queued', 'submitting', 'running')",
      [batch.id],
    );
    const batchLeft = left.rows[0]?.n ?? 0;
    // Let the batch finish (bounded) so later phases start from an idle queue.
    const drained = await waitUntil("the batch", quick ? 60_000 : 180_000, async () => {
      const { rows } = await db.pool.query<{ state: string }>(
        "select state from batches where id = $1",
        [batch.id],
      );
      return rows[0]?.state !== "running";
    })
      .then(() => true)
      .catch(() => false);
    const batchSeconds = (performance.now() - started) / 1000;
    if (!drained) {
      await fetch(`${batchUrl}/${batch.id}/cancel`, {
        method: "POST",
        headers: { authorization: `Bearer ${batchOwner.keys[0]}` },
      });
    }
    const p99Ratio = percentile(during, 0.99) / percentile(alone, 0.99);
    return {
      title: `fairness: ${plan.fairnessInteractive} interactive creates alone, and right after a ${int(plan.fairnessBatch)}-item batch (sandbox generation 0)`,
      header: ["interactive", "p50 ms", "p99 ms", "max ms", "batch items left when they ended"],
      rows: [
        [
          "alone",
          ms(percentile(alone, 0.5)),
          ms(percentile(alone, 0.99)),
          ms(alone.at(-1) ?? Number.NaN),
          "—",
        ],
        [
          "with the batch",
          ms(percentile(during, 0.5)),
          ms(percentile(during, 0.99)),
          ms(during.at(-1) ?? Number.NaN),
          int(batchLeft),
        ],
      ],
      notes: [
        `p99 ms by stage, alone: ${aloneStages}; with the batch: ${duringStages}.`,
        `p99 with the batch / alone: ${ratio(percentile(during, 0.99), percentile(alone, 0.99))}; the batch was accepted in ${ms(acceptMs)} ms and ${drained ? `ended after ${batchSeconds.toFixed(1)} s` : "was canceled (still running at the time limit)"}.`,
      ],
      measured: { fairness: { value: p99Ratio } },
    };
  },
};
