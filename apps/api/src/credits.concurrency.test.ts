import { ledgerEntries, tasks } from "@ripen/db";
import { ledgerViolations, startTestStack, type TestStack } from "@ripen/testkit";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(() => stack?.close());

describe("credit holds under concurrency", () => {
  it("200 concurrent creates on an account that can afford 50: exactly 50 accepted", async () => {
    const { apiKey, accountId } = await stack.createAccount(50 * 16);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        stack.request("POST", "/v1/images/generations", {
          key: apiKey,
          body: { model: "nano-banana-2", input: { prompt: `cat #${i}` } },
        }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(50);
    expect(statuses.filter((s) => s === 402)).toHaveLength(150);
    for (const a of answers.filter((x) => x.status === 402)) {
      expect(a.body.error).toMatchObject({ code: "insufficient_credits", type: "billing_error" });
    }

    const credits = await stack.request("GET", "/v1/credits", { key: apiKey });
    expect(credits.body.data).toEqual({ credits: 0, balance: 800, held: 800 });
    const [taskRows] = await stack.db.db
      .select({ n: count() })
      .from(tasks)
      .where(eq(tasks.accountId, accountId));
    expect(taskRows?.n).toBe(50);
    const holds = await stack.db.db
      .select()
      .from(ledgerEntries)
      .where(eq(ledgerEntries.accountId, accountId));
    expect(holds.filter((e) => e.kind === "hold")).toHaveLength(50);
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });
});
