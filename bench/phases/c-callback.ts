import type { Phase } from "../lib/context";
import { createAccounts } from "../lib/infra";
import { CREATE_BODY, LONG_GENERATION_MS, log, plan } from "../lib/plan";
import { int, ms, percentile, ratio, sortedCopy } from "../lib/report";
import { describeCounts } from "../lib/ripen";

/**
 * Provider callback → task readable as completed: tasks held running upstream (long generation,
 * callbacks lost); the bench posts each callback to the URL the worker gave the sandbox and reads
 * `GET /v1/tasks/{id}` until it says completed. One at a time, beside a baseline round trip.
 */
export const callbackToReadable: Phase = {
  letter: "c",
  title: "callback → readable",
  needs: { system: { generationMs: LONG_GENERATION_MS, callbackLossRate: 1 } },
  async run(ctx) {
    const { ripen } = ctx;
    const accounts = await createAccounts(ripen.db, 1, "bench-c");
    const key = accounts.keys[0]!;
    // The first callbacks warm the path (each connection's statements prepared, the code
    // optimized), as the create phases warm up: measured, they were the run's slowest.
    const tasks = plan.callbackWarmupTasks + plan.callbackTasks;
    log(
      `c: ${tasks} tasks held running upstream; posting their callbacks, the first ${plan.callbackWarmupTasks} not counted`,
    );
    const ids: string[] = [];
    for (let i = 0; i < tasks; i += 10) {
      const batch = Math.min(10, tasks - i);
      const replies = await Promise.all(
        Array.from({ length: batch }, () =>
          fetch(ripen.createUrl, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: CREATE_BODY,
          }).then((r) => r.json() as Promise<{ data?: { taskId?: string } }>),
        ),
      );
      for (const reply of replies) if (reply.data?.taskId) ids.push(reply.data.taskId);
    }
    const running = await ripen.settle(accounts, ids.length, ["running"], 60_000);
    if (running.timedOut) log(`c: not all running: ${describeCounts(running.counts)}`);

    // The callback URL (and its token) is what the worker told the sandbox.
    const listed = (await (await fetch(`${ripen.sandbox.url}/_sandbox/tasks`)).json()) as {
      tasks: Array<{ id: string; model: string; callbackUrl: string | null; createdAt: number }>;
    };
    const upstream = new Map(
      listed.tasks.flatMap((t) => {
        const ripenId = ids.find((id) => t.callbackUrl?.includes(`/${id}/`));
        return ripenId ? [[ripenId, t] as const] : [];
      }),
    );

    // Reference: one round trip to the baseline, one request at a time.
    const baseline = await ctx.startBaseline();
    const roundTrips: number[] = [];
    try {
      for (let i = 0; i < ids.length; i++) {
        const t0 = performance.now();
        await (await fetch(`${baseline.url}/v1/x`, { method: "POST", body: "{}" })).text();
        if (i >= plan.callbackWarmupTasks) roundTrips.push(performance.now() - t0);
      }
    } finally {
      await baseline.service.stop();
    }

    const posted: number[] = [];
    const readable: number[] = [];
    let rejected = 0;
    let unread = 0;
    for (const [index, id] of ids.entries()) {
      const counted = index >= plan.callbackWarmupTasks;
      const task = upstream.get(id);
      if (!task?.callbackUrl) continue;
      const now = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({
        id: task.id,
        status: "completed",
        model: task.model,
        created_at: Math.floor(task.createdAt / 1000),
        completed_at: now,
        output: {
          urls: [`${ripen.sandbox.url}/files/${task.id}.jpg`],
          metadata: { model: task.model, costTime: 1_000 },
        },
      });
      const t0 = performance.now();
      const answer = await fetch(task.callbackUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      await answer.text();
      if (counted) posted.push(performance.now() - t0);
      if (answer.status !== 200) rejected++;
      const deadline = t0 + 10_000;
      let seen = false;
      while (!seen && performance.now() < deadline) {
        const read = await fetch(`${ripen.apiUrl}/v1/tasks/${id}`, {
          headers: { authorization: `Bearer ${key}` },
        });
        seen = ((await read.json()) as { status?: string }).status === "completed";
      }
      if (!seen) unread++;
      else if (counted) readable.push(performance.now() - t0);
    }
    const [p, r, b] = [sortedCopy(posted), sortedCopy(readable), sortedCopy(roundTrips)];
    return {
      title: `provider callback → task readable as completed (${int(readable.length)} tasks, one at a time, after ${plan.callbackWarmupTasks} not counted; sandbox generation 1 h, callbacks lost, so only the bench posts them)`,
      header: ["measure", "p50 ms", "p99 ms", "vs baseline p50"],
      rows: [
        [
          "callback POST answered",
          ms(percentile(p, 0.5)),
          ms(percentile(p, 0.99)),
          ratio(percentile(p, 0.5), percentile(b, 0.5)),
        ],
        [
          "readable as completed (GET)",
          ms(percentile(r, 0.5)),
          ms(percentile(r, 0.99)),
          ratio(percentile(r, 0.5), percentile(b, 0.5)),
        ],
        ["baseline round trip", ms(percentile(b, 0.5)), ms(percentile(b, 0.99)), "1.00"],
      ],
      notes: [
        ...(upstream.size < ids.length
          ? [`(${ids.length - upstream.size} of ${ids.length} tasks never reached the sandbox)`]
          : []),
        ...(rejected ? [`(${rejected} callbacks answered non-200)`] : []),
        ...(unread ? [`(${unread} tasks not readable as completed within 10 s)`] : []),
      ],
      // A task never seen completed counts as infinitely late, so it cannot pass unnoticed.
      measured:
        ids.length > 0
          ? {
              callbackVisible: {
                value: percentile([...r, ...Array<number>(unread).fill(Infinity)], 0.99),
              },
            }
          : {},
    };
  },
};
