/**
 * The ledger against a plain model: random sequences of grants, creates (holds), captures,
 * releases, cancels, expiries and adjustments, run in rounds whose operations race each other
 * over real Postgres. Whatever the interleaving, each account's balance, held and available
 * credits equal the model's (built from what each operation answered), and `checkLedger` finds
 * nothing.
 */
import { getModel } from "@ripen/models";
import { createTestDatabase, type TestDatabase } from "@ripen/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "./accounts";
import { cancelTask } from "./cancel";
import { InsufficientCredits, TaskAlreadyEnded } from "./errors";
import { AdjustmentExceedsAvailable, adjustCredits, getCredits, grantCredits } from "./ledger";
import { checkLedger } from "./ledger-check";
import { createTask } from "./task-create";
import { endTask } from "./task-ending/end-task";
import { expiredOutcome } from "./task-ending/outcomes";
import { createTaskEnder } from "./task-ending/task-ender";
import { transitionTask } from "./task-machine";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const model = getModel("nano-banana-2");
const silent = { info() {}, warn() {}, error() {} };
const ender = createTaskEnder({
  logger: silent,
  notify: async () => {},
  enqueueDelivery: async () => {},
  releaseSlots: async () => {},
});

type Op =
  | { op: "grant"; amount: number }
  | { op: "adjust"; amount: number }
  | { op: "create" }
  | { op: "capture" | "release" | "cancel" | "expire"; task: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("grant" as const), amount: fc.integer({ min: 1, max: 60 }) }),
  fc.record({
    op: fc.constant("adjust" as const),
    amount: fc.integer({ min: -40, max: 40 }).filter((n) => n !== 0),
  }),
  { arbitrary: fc.record({ op: fc.constant("create" as const) }), weight: 3 },
  fc.record({
    op: fc.constantFrom(
      "capture" as const,
      "release" as const,
      "cancel" as const,
      "expire" as const,
    ),
    task: fc.nat(20),
  }),
);

/** What the ledger should say: credits moved by the operations that were applied. */
interface Model {
  balance: number;
  held: number;
  /** Each created task's price while its hold is open; deleted once resolved. */
  open: Map<string, number>;
}

describe("the ledger against a plain model", () => {
  it("agrees after any sequence of racing operations", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(opArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }),
        async (rounds) => {
          const { accountId } = await createAccount(db.db, { name: "prop", credits: 50 });
          const m: Model = { balance: 50, held: 0, open: new Map() };
          const created: string[] = [];

          const run = async (op: Op): Promise<void> => {
            switch (op.op) {
              case "grant":
                await grantCredits(db.db, { accountId, amount: op.amount });
                m.balance += op.amount;
                return;
              case "adjust":
                try {
                  await adjustCredits(db.db, { accountId, amount: op.amount, reason: "prop" });
                  m.balance += op.amount;
                } catch (error) {
                  if (!(error instanceof AdjustmentExceedsAvailable)) throw error;
                }
                return;
              case "create":
                try {
                  const task = await createTask(db.db, {
                    accountId,
                    model,
                    input: { prompt: "x" },
                  });
                  created.push(task.id);
                  m.open.set(task.id, task.price);
                  m.held += task.price;
                } catch (error) {
                  if (!(error instanceof InsufficientCredits)) throw error;
                }
                return;
            }
            const taskId = created[op.task % Math.max(created.length, 1)];
            if (!taskId) return;
            let applied = false;
            if (op.op === "cancel") {
              applied = await cancelTask(db.db, ender, { accountId, taskId, now: new Date() }).then(
                () => true,
                (error) => {
                  if (error instanceof TaskAlreadyEnded) return false;
                  throw error;
                },
              );
            } else if (op.op === "capture") {
              // A success comes from a submission: queued → submitting first (once).
              await transitionTask(db.db, {
                taskId,
                from: ["queued"],
                to: "submitting",
                source: "worker",
              }).catch(() => {});
              const ended = await endTask(db.db, {
                taskId,
                outcome: { status: "succeeded", output: { urls: [], metadata: {} } },
                source: "poll",
              });
              applied = ended.applied && ended.task?.status === "succeeded";
            } else {
              const outcome =
                op.op === "expire"
                  ? expiredOutcome()
                  : { status: "failed" as const, errorCode: "x", errorMessage: "x" };
              applied = (await endTask(db.db, { taskId, outcome, source: "poll" })).applied;
            }
            if (!applied) return;
            const price = m.open.get(taskId)!;
            m.open.delete(taskId);
            m.held -= price;
            if (op.op === "capture") m.balance -= price;
          };

          for (const round of rounds) await Promise.all(round.map(run));

          expect(await getCredits(db.db, accountId)).toEqual({
            balance: m.balance,
            held: m.held,
            available: m.balance - m.held,
          });
          expect(m.balance - m.held).toBeGreaterThanOrEqual(0);
          expect((await checkLedger(db.db)).drift).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  });
});
