import type { DbHandle } from "@ripen/db";
import { bearer, type KeyHeader } from "../lib/cannon";
import type { Phase, Section } from "../lib/context";
import { type AccountSet, createAccounts } from "../lib/infra";
import { ACCOUNTS, CONNECTIONS, CREATE_BODY, log, plan } from "../lib/plan";
import { int, ms, ratio } from "../lib/report";
import { alternatingRounds, type RoundTally, roundFigures } from "../lib/rounds";

/** Phase g: the same image create through native and each front door, beside the baseline. */
export const doors: Phase = {
  letter: "g",
  title: "doors",
  needs: {},
  async run(ctx) {
    const db = await ctx.createDatabase();
    const baseline = await ctx.startBaseline();
    try {
      const api = await ctx.startCreateApi("api (phase g)");
      try {
        return await measureDoors(db, baseline.url, api.url);
      } finally {
        await api.service.stop();
      }
    } finally {
      await baseline.service.stop();
    }
  },
};

const DOOR_PROMPT = "a benchmark cat";

/**
 * Phase g: an image create through the native API and through each door (its own path, body and
 * key header), the same load on each, next to the baseline. A door's create is the native create
 * plus its wire translation, so the issue asks it to stay within 10% of native; a door that falls
 * further behind, or does not create at all, is flagged rather than failing the bench.
 */
async function measureDoors(db: DbHandle, baselineUrl: string, apiUrl: string): Promise<Section> {
  const creates = [
    { door: "native", path: "/v1/images/generations", body: CREATE_BODY, keyHeader: bearer },
    {
      door: "nanobanana",
      path: "/api/v1/images/generate",
      // Not nano-banana-2: document 001 marks it "Subscription: Required" on this door.
      body: JSON.stringify({ prompt: DOOR_PROMPT, model: "nano-banana-pro" }),
      keyHeader: bearer,
    },
    {
      door: "kie",
      path: "/api/v1/jobs/createTask",
      body: JSON.stringify({
        model: "nano-banana-2-text-to-image",
        input: { prompt: DOOR_PROMPT },
      }),
      keyHeader: bearer,
    },
    {
      door: "revid",
      path: "/paid/nano/banana/create",
      body: JSON.stringify({ model: "nano-banana-pro", input: { prompt: DOOR_PROMPT } }),
      keyHeader: ((key) => ({ "x-api-key": key })) satisfies KeyHeader,
    },
  ];
  const targets: Array<{
    label: string;
    door: string | null;
    url: string;
    body: string;
    keyHeader: KeyHeader;
    accounts: AccountSet;
  }> = [
    {
      label: "baseline: express, constant JSON",
      door: null,
      url: `${baselineUrl}/v1/images/generations`,
      body: CREATE_BODY,
      keyHeader: bearer,
      accounts: { ids: [], keys: [] },
    },
  ];
  // Accounts of its own per target, so the tasks each one created can be counted. Each is granted
  // 100,000,000 credits: holds are never released here (no worker), and a create costs tens.
  for (const create of creates) {
    targets.push({
      label: `${create.door} POST ${create.path}`,
      door: create.door,
      url: `${apiUrl}${create.path}`,
      body: create.body,
      keyHeader: create.keyHeader,
      accounts: await createAccounts(db, ACCOUNTS, `bench-g-${create.door}`),
    });
  }

  const loadOf = (target: (typeof targets)[number]) => ({
    keys: target.accounts.keys,
    body: target.body,
    keyHeader: target.keyHeader,
  });
  // One request each first: what a door that does not create answers, to name it in the report.
  const firstAnswer = new Map<string, string>();
  for (const target of targets.slice(1)) {
    const answer = await fetch(target.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...target.keyHeader(target.accounts.keys[0]!),
      },
      body: target.body,
    });
    const text = (await answer.text()).replace(/\s+/g, " ");
    firstAnswer.set(target.label, `${answer.status} ${text.slice(0, 120)}`);
  }
  const tasksBefore = new Map<string, Map<string, number>>();
  const tallies = await alternatingRounds(
    "g",
    targets.map((target) => ({ label: target.label, url: target.url, load: loadOf(target) })),
    {
      rounds: plan.doorRounds,
      roundS: plan.doorRoundS,
      warmedUp: async () => {
        for (const target of targets)
          tasksBefore.set(target.label, await tasksByDoor(db, target.accounts));
      },
    },
  );

  const figures = new Map<string, ReturnType<typeof figuresOf>>();
  for (const target of targets) {
    const after = await tasksByDoor(db, target.accounts);
    const before = tasksBefore.get(target.label)!;
    const created = new Map(
      [...after].map(([door, n]) => [door, n - (before.get(door) ?? 0)] as const),
    );
    figures.set(target.label, figuresOf(tallies.get(target.label)!, created, target.door));
  }
  const native = figures.get(targets[1]!.label)!;
  const base = figures.get(targets[0]!.label)!;
  const rows = targets.map((target) => {
    const f = figures.get(target.label)!;
    return [
      target.label,
      int(f.reqPerS),
      int(f.okPerS),
      ms(f.p50),
      ms(f.p99),
      int(f.non2xx),
      int(f.errors),
      target.door ? int(f.tasks) : "—",
      ratio(f.okPerS, native.okPerS),
      ratio(f.okPerS, base.okPerS),
    ];
  });

  const notes: string[] = [];
  for (const target of targets.slice(1)) {
    const f = figures.get(target.label)!;
    const problems: string[] = [];
    if (f.non2xx > 0) {
      const codes = [...f.statuses]
        .filter(([status]) => status < 200 || status >= 300)
        .sort((x, y) => y[1] - x[1])
        .map(([status, n]) => `${status} ×${int(n)}`)
        .join(", ");
      problems.push(
        `${int(f.non2xx)} of ${int(f.answers)} answers non-2xx (${codes}); the first answer: ${firstAnswer.get(target.label)}`,
      );
    }
    if (f.errors > 0) problems.push(`${int(f.errors)} connection errors or timeouts`);
    if (f.tasks < f.ok) problems.push(`${int(f.ok)} 2xx answers but ${int(f.tasks)} tasks`);
    if (f.otherDoor > 0)
      problems.push(`${int(f.otherDoor)} tasks not recorded as door ${target.door}`);
    const share = native.okPerS > 0 ? f.okPerS / native.okPerS : Number.NaN;
    const name = target.door!;
    if (problems.length > 0) {
      notes.push(`FLAG ${name}: does not measure a create: ${problems.join("; ")}`);
    } else if (target.door !== "native") {
      notes.push(
        share < 0.9
          ? `FLAG ${name}: ${share.toFixed(2)}× native, more than 10% below`
          : `ok ${name}: ${share.toFixed(2)}× native, within 10%`,
      );
    }
  }
  for (const note of notes) log(`g: ${note}`);
  return {
    title: `doors: one image create through native and each door, ${CONNECTIONS} connections, ${plan.doorRounds} rounds of ${plan.doorRoundS} s each in alternating order (after ${plan.warmupS} s warm-up), ${ACCOUNTS} accounts per target, worker not running`,
    header: [
      "target",
      "req/s",
      "2xx/s",
      "p50 ms",
      "p99 ms",
      "non-2xx",
      "errors",
      "tasks",
      "vs native",
      "vs baseline",
    ],
    rows,
    notes,
  };
}

/** Counts of tasks these accounts hold, by the door they came through. */
async function tasksByDoor(db: DbHandle, accounts: AccountSet): Promise<Map<string, number>> {
  if (accounts.ids.length === 0) return new Map();
  const { rows } = await db.pool.query<{ door: string; n: number }>(
    "select door, count(*)::int as n from tasks where account_id = any($1) group by door",
    [accounts.ids],
  );
  return new Map(rows.map((r) => [r.door, r.n]));
}

function figuresOf(tally: RoundTally, created: Map<string, number>, door: string | null) {
  const tasks = [...created.values()].reduce((total, n) => total + n, 0);
  return {
    ...roundFigures(tally),
    tasks,
    otherDoor: door ? tasks - (created.get(door) ?? 0) : 0,
  };
}
