/**
 * After the load: the drain (every task ended), then the figures the issue asks for, each read
 * from the database (and the sandbox's own record, and the callback receiver), never from
 * Ripen's answers alone.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { checkLedger } from "@ripen/core";
import { activeTaskStatuses, type DbHandle, terminalTaskStatuses } from "@ripen/db";
import { getModel } from "@ripen/models";
import { createProviderHealth, defaultProviders } from "@ripen/providers";
import type { SandboxTaskInfo } from "@ripen/sandbox";
import { Redis } from "ioredis";
import { percentile, sortedCopy } from "../../bench/lib/report";
import type { CreateResult } from "./client";
import type { CallbackReceiver } from "./receiver";
import { log } from "./stack";

const ACTIVE = [...activeTaskStatuses];
const TERMINAL = [...terminalTaskStatuses];

/** Which providers' circuits were open, once a second, read as the workers read them. */
export interface HealthSample {
  atMs: number;
  open: string[];
}

export function sampleProviderHealth(
  redisUrl: string,
  prefix: string,
): { samples: HealthSample[]; stop(): Promise<void> } {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on("error", () => {});
  const health = createProviderHealth(redis, prefix);
  const ids = defaultProviders.map((p) => p.id);
  const samples: HealthSample[] = [];
  const timer = setInterval(() => {
    health
      .states(ids)
      .then((states) => {
        const open = ids.filter((id) => (states.get(id)?.openForMs ?? 0) > 0);
        samples.push({ atMs: Date.now(), open });
      })
      // Redis restarting: no sample for that second.
      .catch(() => {});
  }, 1_000);
  return {
    samples,
    async stop() {
      clearInterval(timer);
      redis.disconnect();
    },
  };
}

const count = async (db: DbHandle, sql: string, params: unknown[] = []) =>
  Number((await db.pool.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);

/** Retries a read while Postgres is briefly away (the drain may start right after its restart). */
async function retrying<T>(read: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await read();
    } catch (error) {
      if (tries >= 30) throw error;
      await sleep(1_000);
    }
  }
}

/**
 * Waits until no task is active, at most until the latest deadline among them plus `marginMs`
 * (past its deadline the sweep must have expired a task). Returns how long it took and what is
 * still active.
 */
export async function drain(
  db: DbHandle,
  marginMs: number,
): Promise<{ seconds: number; active: number }> {
  const started = performance.now();
  const latest = await retrying(() =>
    db.pool.query<{ at: Date | null }>(
      "select max(deadline_at) as at from tasks where status = any($1)",
      [ACTIVE],
    ),
  );
  const boundAt = (latest.rows[0]?.at?.getTime() ?? Date.now()) + marginMs;
  log(`drain: waiting until no task is active (at most until ${new Date(boundAt).toISOString()})`);
  let lastLog = 0;
  for (;;) {
    const byStatus = await retrying(() =>
      db.pool.query<{ status: string; n: number }>(
        "select status, count(*)::int as n from tasks where status = any($1) group by status",
        [ACTIVE],
      ),
    );
    const active = byStatus.rows.reduce((sum, row) => sum + row.n, 0);
    const seconds = (performance.now() - started) / 1000;
    if (active === 0 || Date.now() > boundAt) return { seconds, active };
    if (seconds - lastLog >= 15) {
      lastLog = seconds;
      log(
        `drain: ${byStatus.rows.map((r) => `${r.status} ${r.n}`).join(", ")} after ${seconds.toFixed(0)} s`,
      );
    }
    await sleep(1_000);
  }
}

/** Waits (bounded) for the deliveries outbox to have nothing pending. */
export async function settleDeliveries(db: DbHandle, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = await count(db, "select count(*) as n from deliveries where state = 'pending'");
    if (pending === 0 || Date.now() > deadline) return pending;
    await sleep(1_000);
  }
}

/** The figures that must be zero, each with what makes it up. */
export interface Zeros {
  acknowledgedButLost: number;
  tasksPerKeyAboveOne: number;
  tasksNotEnded: number;
  endingsAppliedTwice: number;
  upstreamSuccessesPaidTwice: number;
  ledgerDrift: number;
  creditsStillHeld: number;
  clientDeliveriesMissing: number;
}

export interface ModelShares {
  model: string;
  creates: number;
  refused: number;
  clientErrors: number;
  unanswered: number;
  admitted: number;
  succeeded: number;
  failed: number;
  expired: number;
  canceled: number;
  active: number;
}

export interface Figures {
  zeros: Zeros;
  details: Record<string, string>;
  shares: { all: ModelShares; byModel: ModelShares[] };
  expired: {
    total: number;
    whileAProviderWasHealthy: number;
    whileEveryProviderWasOpen: number;
    byLastAttempt: Record<string, number>;
    /**
     * The expired tasks grouped by what a reader needs to find their cause: batch item or door
     * task, model, the state of the last attempt and the last wait the worker recorded, with
     * the seconds into the run they were created in (first and last).
     */
    byCause: Array<{ cause: string; tasks: number; createdFromS: number; createdToS: number }>;
  };
  failedByCode: Record<string, number>;
  /** Seconds from create to ending, by the provider of the task's last attempt. */
  durations: Array<{ provider: string; tasks: number; p50: number; p99: number; max: number }>;
  clientErrors: Array<{ label: string; status: number; code: string; message: string; n: number }>;
  deliveriesByState: Record<string, number>;
  sandbox: { tasks: number; unmatched: number; unmatchedSucceeded: number };
}

const emptyShares = (model: string): ModelShares => ({
  model,
  creates: 0,
  refused: 0,
  clientErrors: 0,
  unanswered: 0,
  admitted: 0,
  succeeded: 0,
  failed: 0,
  expired: 0,
  canceled: 0,
  active: 0,
});

/** The providers that serve a model, as the registry declares them. */
const providersOf = (model: string) => {
  const dialects = new Set(getModel(model).routes.map((route) => route.dialect));
  return defaultProviders.filter((p) => dialects.has(p.dialect)).map((p) => p.id);
};

export async function checkEverything(args: {
  db: DbHandle;
  sandboxUrl: string;
  results: readonly CreateResult[];
  receiver: CallbackReceiver;
  samples: readonly HealthSample[];
}): Promise<Figures> {
  const { db, results, receiver } = args;
  const details: Record<string, string> = {};
  const rows = async <R extends object>(sql: string, params: unknown[] = []) =>
    (await db.pool.query<R & Record<string, unknown>>(sql, params)).rows;

  // Acknowledged but lost: an id the client was given that the database does not have (for a
  // batch, or fewer items than it said it accepted).
  const ackedTasks = results.flatMap((r) =>
    r.outcome.state === "acknowledged" && r.outcome.taskId ? [r.outcome.taskId] : [],
  );
  const ackedBatches = new Map(
    results.flatMap((r) =>
      r.outcome.state === "acknowledged" && r.outcome.batchId
        ? [[r.outcome.batchId, r.outcome.total ?? r.create.models.length] as const]
        : [],
    ),
  );
  const foundTasks = await count(db, "select count(*) as n from tasks where id = any($1::text[])", [
    ackedTasks,
  ]);
  const batchItems = await rows<{ id: string; items: number }>(
    `select b.id, count(t.id)::int as items from batches b left join tasks t on t.batch_id = b.id
     where b.id = any($1::text[]) group by b.id`,
    [[...ackedBatches.keys()]],
  );
  const itemsFound = new Map(batchItems.map((b) => [b.id, b.items]));
  let lostItems = 0;
  for (const [id, total] of ackedBatches)
    lostItems += Math.max(0, total - (itemsFound.get(id) ?? 0));
  const acknowledgedButLost = ackedTasks.length - foundTasks + lostItems;
  details.acknowledgedButLost = `${ackedTasks.length} task ids and ${ackedBatches.size} batches acknowledged; ${ackedTasks.length - foundTasks} ids and ${lostItems} batch items not in the database`;

  // Tasks per key: the key is in each task's prompt ("chaos <key>", a batch item's "/<index>").
  const duplicated = await rows<{ keys: number; extra: number }>(
    `select count(*)::int as keys, coalesce(sum(n - 1), 0)::int as extra from (
       select count(*) as n from tasks group by input->>'prompt' having count(*) > 1) d`,
  );
  const tasksPerKeyAboveOne = duplicated[0]?.keys ?? 0;
  details.tasksPerKeyAboveOne = `${tasksPerKeyAboveOne} keys made more than one task (${duplicated[0]?.extra ?? 0} extra tasks)`;

  const tasksNotEnded = await count(db, "select count(*) as n from tasks where status = any($1)", [
    ACTIVE,
  ]);

  // Endings applied twice: a second terminal event, a second resolution of a hold, a second
  // client callback for one task.
  const twiceEnded = await count(
    db,
    `select count(*) as n from (select task_id from task_events where to_status = any($1)
       group by task_id having count(*) > 1) x`,
    [TERMINAL],
  );
  const twiceResolved = await count(
    db,
    `select count(*) as n from (select hold_id from ledger_entries where hold_id is not null
       group by hold_id having count(*) > 1) x`,
  );
  const twiceDelivered = await count(
    db,
    `select count(*) as n from (select coalesce(task_id, batch_id) from deliveries
       group by coalesce(task_id, batch_id) having count(*) > 1) x`,
  );
  const endingsAppliedTwice = twiceEnded + twiceResolved + twiceDelivered;
  details.endingsAppliedTwice = `${twiceEnded} tasks with more than one terminal event, ${twiceResolved} holds resolved more than once, ${twiceDelivered} tasks or batches with more than one callback`;

  // Upstream successes paid twice: Ripen's attempts, and the sandbox's own record of its tasks.
  const paidTwiceByAttempts = await count(
    db,
    `select count(*) as n from (select task_id from task_attempts
       where (state = 'succeeded' or result->>'status' = 'succeeded') and coalesce(upstream_cost, 0) > 0
       group by task_id having count(*) > 1) x`,
  );
  const sandbox = await sandboxPaidTwice(db, args.sandboxUrl);
  const upstreamSuccessesPaidTwice = Math.max(paidTwiceByAttempts, sandbox.paidTwice);
  details.upstreamSuccessesPaidTwice = `${paidTwiceByAttempts} tasks with more than one paid successful attempt; the sandbox: ${sandbox.paidTwice} tasks it generated and charged more than once (of ${sandbox.tasks} upstream tasks, ${sandbox.unmatched} of which Ripen never learned the id, ${sandbox.unmatchedSucceeded} of those succeeded)`;

  const ledger = await checkLedger(db.db);
  details.ledgerDrift = ledger.drift
    .slice(0, 5)
    .map((d) => `${d.rule}: ${JSON.stringify(d.row)}`)
    .join("; ");

  const held = (
    await rows<{ accounts: number; held: string }>(
      "select count(*)::int as accounts, coalesce(sum(held), 0) as held from accounts where held <> 0",
    )
  )[0];
  const creditsStillHeld = Number(held?.held ?? 0);
  details.creditsStillHeld = `${held?.accounts ?? 0} accounts hold ${creditsStillHeld} credits`;

  // Client deliveries: every ended task (and ended batch) that asked for a callback got one.
  const wantCallback = await rows<{ id: string }>(
    "select id from tasks where callback_url is not null and status = any($1)",
    [TERMINAL],
  );
  const batchesWanting = await rows<{ id: string }>(
    "select id from batches where callback_url is not null and state <> 'running'",
  );
  const tasksMissing = wantCallback.filter((t) => !receiver.tasks.has(t.id)).length;
  const batchesMissing = batchesWanting.filter((b) => !receiver.batches.has(b.id)).length;
  const clientDeliveriesMissing = tasksMissing + batchesMissing;
  details.clientDeliveriesMissing = `${tasksMissing} of ${wantCallback.length} tasks and ${batchesMissing} of ${batchesWanting.length} batches with a callback_url got none (${receiver.total()} deliveries received)`;
  const deliveriesByState = Object.fromEntries(
    (
      await rows<{ state: string; n: number }>(
        "select state, count(*)::int as n from deliveries group by state order by state",
      )
    ).map((r) => [r.state, r.n]),
  );

  const zeros: Zeros = {
    acknowledgedButLost,
    tasksPerKeyAboveOne,
    tasksNotEnded,
    endingsAppliedTwice,
    upstreamSuccessesPaidTwice,
    ledgerDrift: ledger.drift.length,
    creditsStillHeld,
    clientDeliveriesMissing,
  };

  return {
    zeros,
    details,
    ...(await shares(db, results, args.samples)),
    clientErrors: clientErrorsOf(results),
    deliveriesByState,
    sandbox: {
      tasks: sandbox.tasks,
      unmatched: sandbox.unmatched,
      unmatchedSucceeded: sandbox.unmatchedSucceeded,
    },
  };
}

/**
 * The sandbox's tasks matched to Ripen's: by the upstream id an attempt recorded, else by the
 * task id in the callback URL Ripen gave it. A Ripen task with two charged successes upstream
 * was paid twice.
 */
async function sandboxPaidTwice(db: DbHandle, sandboxUrl: string) {
  const { tasks } = (await (await fetch(`${sandboxUrl}/_sandbox/tasks`)).json()) as {
    tasks: SandboxTaskInfo[];
  };
  const attempts = (
    await db.pool.query<{ provider: string; provider_task_id: string; task_id: string }>(
      "select provider, provider_task_id, task_id from task_attempts where provider_task_id is not null",
    )
  ).rows;
  const byUpstream = new Map(
    attempts.map((a) => [`${a.provider}/${a.provider_task_id}`, a.task_id]),
  );
  const paid = new Map<string, number>();
  let unmatched = 0;
  let unmatchedSucceeded = 0;
  for (const task of tasks) {
    const known = byUpstream.get(`${task.provider}/${task.id}`);
    const ripenTask =
      known ?? /\/callbacks\/[^/]+\/(task_[^/]+)\//.exec(task.callbackUrl ?? "")?.[1];
    const charged = task.state === "succeeded" && task.cost > 0;
    if (!known) {
      unmatched++;
      if (charged) unmatchedSucceeded++;
    }
    if (ripenTask && charged) paid.set(ripenTask, (paid.get(ripenTask) ?? 0) + 1);
  }
  const paidTwice = [...paid.values()].filter((n) => n > 1).length;
  return { tasks: tasks.length, unmatched, unmatchedSucceeded, paidTwice };
}

function clientErrorsOf(results: readonly CreateResult[]) {
  const groups = new Map<
    string,
    { label: string; status: number; code: string; message: string; n: number }
  >();
  for (const { create, outcome } of results) {
    if (outcome.state !== "client_error") continue;
    const key = `${create.label}|${outcome.status}|${outcome.code}`;
    const group = groups.get(key);
    if (group) group.n++;
    else
      groups.set(key, {
        label: create.label,
        status: outcome.status,
        code: outcome.code,
        message: outcome.message.slice(0, 160),
        n: 1,
      });
  }
  return [...groups.values()].sort((a, b) => b.n - a.n);
}

/** What became of every task the clients asked for, in all and by model. */
async function shares(
  db: DbHandle,
  results: readonly CreateResult[],
  samples: readonly HealthSample[],
) {
  const tasks = (
    await db.pool.query<{ id: string; model: string; status: string; batch_id: string | null }>(
      "select id, model, status, batch_id from tasks",
    )
  ).rows;
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const byBatch = new Map<string, typeof tasks>();
  for (const task of tasks) {
    if (!task.batch_id) continue;
    const items = byBatch.get(task.batch_id) ?? [];
    items.push(task);
    byBatch.set(task.batch_id, items);
  }
  const all = emptyShares("all");
  const byModel = new Map<string, ModelShares>();
  const add = (model: string, field: keyof Omit<ModelShares, "model">) => {
    const shares = byModel.get(model) ?? emptyShares(model);
    byModel.set(model, shares);
    shares[field]++;
    all[field]++;
  };
  const admitted = (task: { model: string; status: string }) => {
    add(task.model, "admitted");
    const status = task.status as keyof ModelShares;
    add(task.model, status in all && status !== "model" ? status : "active");
  };
  for (const { create, outcome } of results) {
    for (const model of create.models) add(model, "creates");
    if (outcome.state === "acknowledged") {
      if (outcome.taskId) {
        const task = byId.get(outcome.taskId);
        if (task) admitted(task);
      } else if (outcome.batchId) {
        for (const task of byBatch.get(outcome.batchId) ?? []) admitted(task);
      }
      continue;
    }
    const field =
      outcome.state === "refused"
        ? "refused"
        : outcome.state === "client_error"
          ? "clientErrors"
          : "unanswered";
    for (const model of create.models) add(model, field);
  }

  // Expired tasks: was a provider serving the model healthy (its circuit closed in every sample)
  // while the task waited? And what became of its last attempt?
  const expiredRows = (
    await db.pool.query<{
      id: string;
      model: string;
      created_at: Date;
      ended_at: Date;
      last_attempt: string | null;
      batch_item: boolean;
      last_wait: string | null;
      created_s: number;
    }>(
      `select t.id, t.model, t.created_at, e.created_at as ended_at, t.batch_id is not null as batch_item,
         extract(epoch from t.created_at - (select min(created_at) from tasks))::int as created_s,
         (select a.state::text || coalesce(' at ' || a.provider, '') from task_attempts a
           where a.task_id = t.id order by a.number desc limit 1) as last_attempt,
         (select w.detail->'waiting_for'->>'reason' || ' ' || (w.detail->'waiting_for'->>'provider')
           from task_events w where w.task_id = t.id and w.detail ? 'waiting_for'
           order by w.id desc limit 1) as last_wait
       from tasks t join task_events e on e.task_id = t.id and e.to_status = 'expired'
       where t.status = 'expired'`,
    )
  ).rows;
  const causes = new Map<string, { tasks: number; createdFromS: number; createdToS: number }>();
  for (const task of expiredRows) {
    const cause = [
      task.batch_item ? "batch item" : "single",
      task.model,
      `last attempt: ${task.last_attempt ?? "none"}`,
      `last wait: ${task.last_wait ?? "none"}`,
    ].join(" · ");
    const at = task.created_s;
    const group = causes.get(cause) ?? { tasks: 0, createdFromS: at, createdToS: at };
    group.tasks++;
    group.createdFromS = Math.min(group.createdFromS, at);
    group.createdToS = Math.max(group.createdToS, at);
    causes.set(cause, group);
  }
  let whileAProviderWasHealthy = 0;
  const byLastAttempt: Record<string, number> = {};
  for (const task of expiredRows) {
    const during = samples.filter(
      (s) => s.atMs >= task.created_at.getTime() && s.atMs <= task.ended_at.getTime(),
    );
    const healthy = providersOf(task.model).some((id) => during.every((s) => !s.open.includes(id)));
    if (healthy) whileAProviderWasHealthy++;
    const last = task.last_attempt ?? "none (never submitted)";
    byLastAttempt[last] = (byLastAttempt[last] ?? 0) + 1;
  }
  const failedByCode = Object.fromEntries(
    (
      await db.pool.query<{ code: string; n: number }>(
        `select coalesce(error_code, '?') as code, count(*)::int as n from tasks
         where status = 'failed' group by 1 order by 2 desc`,
      )
    ).rows.map((r) => [r.code, r.n]),
  );
  const ended = (
    await db.pool.query<{ provider: string; seconds: number }>(
      `select coalesce(t.provider, 'none') as provider,
         extract(epoch from e.created_at - t.created_at)::float8 as seconds
       from tasks t join task_events e on e.task_id = t.id and e.to_status = t.status
       where t.status = any($1)`,
      [TERMINAL],
    )
  ).rows;
  const byProvider = new Map<string, number[]>();
  for (const row of ended) {
    const list = byProvider.get(row.provider) ?? [];
    list.push(row.seconds);
    byProvider.set(row.provider, list);
  }
  const durations = [...byProvider.entries()].map(([provider, seconds]) => {
    const sorted = sortedCopy(seconds);
    return {
      provider,
      tasks: sorted.length,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.at(-1) ?? 0,
    };
  });
  return {
    durations,
    shares: { all, byModel: [...byModel.values()].sort((a, b) => b.creates - a.creates) },
    expired: {
      total: expiredRows.length,
      whileAProviderWasHealthy,
      whileEveryProviderWasOpen: expiredRows.length - whileAProviderWasHealthy,
      byLastAttempt,
      byCause: [...causes.entries()]
        .map(([cause, group]) => ({ cause, ...group }))
        .sort((a, b) => b.tasks - a.tasks),
    },
    failedByCode,
  };
}
