/**
 * Any interleaving of the ways a task ends — its callback, the callback again, a poll, the sweep,
 * a cancel, its batch's cancel, its deadline — ends it exactly once: one terminal event, one
 * resolution of its hold, one client callback enqueued once, and its batch counted (and its
 * batch's callback sent) once.
 */
import { batches, deliveries, ledgerEntries, taskEvents, terminalTaskStatuses } from "@ripen/db";
import { getModel } from "@ripen/models";
import {
  createTestDatabase,
  ledgerViolations,
  openTestAttempt,
  type TestDatabase,
} from "@ripen/testkit";
import { and, eq, inArray } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "../accounts";
import { acceptAttempt } from "../attempts";
import { cancelBatch } from "../batch-cancel";
import { createBatch } from "../batch-create";
import { cancelTask } from "../cancel";
import { TaskAlreadyEnded } from "../errors";
import { transitionTask } from "../task-machine";
import { afterCommit, type EndingEffects } from "./after-commit";
import { endTask } from "./end-task";
import { expiredOutcome } from "./outcomes";
import { createTaskEnder } from "./task-ender";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const ways = [
  "callback",
  "duplicate callback",
  "poll",
  "sweep",
  "cancel",
  "batch cancel",
  "deadline",
] as const;
type Way = (typeof ways)[number];

const output = { urls: ["https://files.example/a.png"], metadata: {} };
const silent = { info() {}, warn() {}, error() {} };

/** A batch of two: item A running on attempt 1, item B already succeeded. */
async function scenario() {
  const { accountId } = await createAccount(db.db, { name: "prop", credits: 1_000 });
  const created = await createBatch(db.db, {
    accountId,
    requests: ["a", "b"].map((prompt) => ({
      model: "nano-banana-2",
      input: { prompt },
      callback_url: "http://127.0.0.1:9/item",
    })),
    callbackUrl: "http://127.0.0.1:9/batch",
    resolveModel: getModel,
  });
  const [a, b] = created.taskIds as [string, string];
  const attempt = await openTestAttempt(db.db, a);
  await acceptAttempt(db.db, { attempt, providerTaskId: `up-${a}`, now: new Date() });
  await transitionTask(db.db, { taskId: b, to: "submitting", source: "worker" });
  const ended = await endTask(db.db, {
    taskId: b,
    outcome: { status: "succeeded", output },
    source: "poll",
  });
  expect(ended.applied).toBe(true);
  return { accountId, batchId: created.batch.id, taskId: a };
}

describe("a task ends exactly once, whatever races to end it", () => {
  it("holds for any interleaving of its endings", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray([...ways], { minLength: 1 }),
        fc.array(fc.nat(3), { minLength: ways.length, maxLength: ways.length }),
        async (order: Way[], delays: number[]) => {
          const { accountId, batchId, taskId } = await scenario();
          const enqueued: string[] = [];
          const slotsFreed: string[] = [];
          const effects: EndingEffects = {
            logger: silent,
            notify: async () => {},
            enqueueDelivery: async (id) => {
              enqueued.push(id);
            },
            releaseSlots: async (holders) => {
              slotsFreed.push(...holders.map((holder) => holder.taskId));
            },
          };
          const ender = createTaskEnder(effects);
          const late = new Date(Date.now() + 3_600_000);
          const callback = async () => {
            // As the callbacks service does: the ending in its transaction, then the step.
            const ending = await db.db.transaction((tx) =>
              endTask(tx, {
                taskId,
                outcome: { status: "succeeded", output },
                source: "callback",
                attempt: { number: 1, providerTaskId: `up-${taskId}` },
              }),
            );
            await afterCommit(effects, ending.settlement);
          };
          const run: Record<Way, () => Promise<unknown>> = {
            callback,
            "duplicate callback": callback,
            poll: () =>
              ender.end(db.db, {
                taskId,
                outcome: { status: "succeeded", output },
                source: "poll",
                attempt: { number: 1 },
              }),
            sweep: () =>
              ender.end(db.db, {
                taskId,
                outcome: expiredOutcome(),
                source: "deadline",
                now: late,
              }),
            cancel: () =>
              cancelTask(db.db, ender, { accountId, taskId, now: new Date() }).catch((error) => {
                if (!(error instanceof TaskAlreadyEnded)) throw error;
              }),
            "batch cancel": () =>
              cancelBatch(db.db, ender, { accountId, batchId, now: new Date() }),
            deadline: () =>
              ender.end(db.db, { taskId, outcome: expiredOutcome(), source: "worker", now: late }),
          };
          await Promise.all(
            order.map(async (way, i) => {
              await new Promise((resolve) => setTimeout(resolve, delays[i] ?? 0));
              await run[way]();
            }),
          );

          const endings = await db.db
            .select()
            .from(taskEvents)
            .where(
              and(
                eq(taskEvents.taskId, taskId),
                inArray(taskEvents.toStatus, [...terminalTaskStatuses]),
              ),
            );
          expect(endings).toHaveLength(1);
          const resolutions = (
            await db.db.select().from(ledgerEntries).where(eq(ledgerEntries.taskId, taskId))
          ).filter((e) => e.kind === "capture" || e.kind === "release");
          expect(resolutions).toHaveLength(1);
          const itemDeliveries = await db.db
            .select()
            .from(deliveries)
            .where(eq(deliveries.taskId, taskId));
          expect(itemDeliveries).toHaveLength(1);
          expect(enqueued.filter((id) => id === itemDeliveries[0]!.id)).toHaveLength(1);
          const batchDeliveries = await db.db
            .select()
            .from(deliveries)
            .where(eq(deliveries.batchId, batchId));
          expect(batchDeliveries).toHaveLength(1);
          expect(enqueued.filter((id) => id === batchDeliveries[0]!.id)).toHaveLength(1);
          const [batch] = await db.db.select().from(batches).where(eq(batches.id, batchId));
          expect(batch?.state).not.toBe("running");
          expect(slotsFreed).toContain(taskId);
        },
      ),
      { numRuns: 40 },
    );
    expect(await ledgerViolations(db.db)).toEqual([]);
  }, 120_000);
});
