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
    /** Creates the interactive tasks at once and waits until each has ended; their ids. */
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
      await waitUntil("the interactive tasks", quick ? 60_000 : 120_000, async () => {
        return (await completionMs(ids)).length === ids.length;
      });
      return ids;
    };
    /** The ended tasks' create-to-end times from Postgres, sorted. */
    const completionMs = async (ids: string[]) => {
      const { rows } = await db.pool.query<{ ms: number | null }>(
        `select (extract(epoch from (completed_at - created_at)) * 1000)::float8 as ms
         from tasks where id = any($1) and status in ('succeeded', 'failed', 'expired')`,
        [ids],
      );
      return rows.map((r) => r.ms ?? 0).sort((a, b) => a - b);
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
    /**
     * A batch for the batch owner, then an interactive round right after it is accepted; waits
     * (bounded) for the batch to end, so the next round starts from an idle queue.
     */
    const batchRound = async () => {
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
      const ids = await interactiveRound([...interactive.keys, batchOwner.keys[0]!]);
      const left = await db.pool.query<{ n: number }>(
        "select count(*)::int as n from tasks where batch_id = $1 and status in ('queued', 'submitting', 'running')",
        [batch.id],
      );
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
      return { ids, left: left.rows[0]?.n ?? 0, acceptMs, batchSeconds, drained };
    };
    // A round not counted first: run cold (f alone), the first round took 2.5× as long as a
    // warm one, which made any batch look fair.
    log(`f: ${plan.fairnessInteractive} interactive tasks to warm up, not counted`);
    await interactiveRound(interactive.keys);
    // Rounds alone and with a batch, in turn, pooled: the p99 of one round of 50 is its
    // slowest task but one, and one round's ratio ranged from 0.90 to 1.64 over runs of the
    // same code on this machine.
    const aloneIds: string[] = [];
    const duringIds: string[] = [];
    const batches: Awaited<ReturnType<typeof batchRound>>[] = [];
    for (let round = 1; round <= plan.fairnessRounds; round++) {
      const of = `round ${round} of ${plan.fairnessRounds}`;
      log(`f: ${of}: ${plan.fairnessInteractive} interactive tasks alone`);
      aloneIds.push(...(await interactiveRound(interactive.keys)));
      log(
        `f: ${of}: a ${int(plan.fairnessBatch)}-item batch, then ${plan.fairnessInteractive} interactive tasks`,
      );
      const batch = await batchRound();
      duringIds.push(...batch.ids);
      batches.push(batch);
    }
    const [alone, during] = [await completionMs(aloneIds), await completionMs(duringIds)];
    const [aloneStages, duringStages] = [await stagesOf(aloneIds), await stagesOf(duringIds)];
    const roundsNote = plan.fairnessRounds > 1 ? ` (${plan.fairnessRounds} rounds of each)` : "";
    const batchNotes = batches.map(
      (batch, i) =>
        `batch ${i + 1} accepted in ${ms(batch.acceptMs)} ms, ${int(batch.left)} items left when its interactive tasks ended, ${batch.drained ? `ended after ${batch.batchSeconds.toFixed(1)} s` : "canceled (still running at the time limit)"}`,
    );
    const p99Ratio = percentile(during, 0.99) / percentile(alone, 0.99);
    return {
      title: `fairness: ${plan.fairnessInteractive} interactive creates alone, and right after a ${int(plan.fairnessBatch)}-item batch${roundsNote} (sandbox generation 0)`,
      header: ["interactive", "tasks", "p50 ms", "p99 ms", "max ms"],
      rows: [
        [
          "alone",
          int(alone.length),
          ms(percentile(alone, 0.5)),
          ms(percentile(alone, 0.99)),
          ms(alone.at(-1) ?? Number.NaN),
        ],
        [
          "with the batch",
          int(during.length),
          ms(percentile(during, 0.5)),
          ms(percentile(during, 0.99)),
          ms(during.at(-1) ?? Number.NaN),
        ],
      ],
      notes: [
        `p99 ms by stage, alone: ${aloneStages}; with the batch: ${duringStages}.`,
        `p99 with the batch / alone: ${ratio(percentile(during, 0.99), percentile(alone, 0.99))}.`,
        `${batchNotes.join("; ")}.`,
      ],
      measured: { fairness: { value: p99Ratio } },
    };
  },
};
