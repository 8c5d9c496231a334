import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli-helpers";

// The operator's commands, run as an operator would, against a running API's admin endpoints.

const ADMIN_TOKEN = "cli-admin-token-0123456789abcdef01234";
let stack: TestStack;
let env: Record<string, string>;

beforeAll(async () => {
  stack = await startTestStack({ worker: false, adminToken: ADMIN_TOKEN });
  env = { RIPEN_API_URL: stack.apiUrl, ADMIN_TOKEN };
});
afterAll(() => stack?.close());

/** Runs a command with --json; fails the test (showing stderr) unless it exits 0. */
async function json(args: string[]) {
  const run = await runCli([...args, "--json"], env);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

describe("ripen account|credits|plan|subscription|key (over the admin API)", () => {
  // Fifteen CLI processes in a row: 19–26 s beside the rest of the suite, past 30 s once.
  it("runs an operator's day: account, plan, subscription, key, top-up, adjustment, disable", {
    timeout: 120_000,
  }, async () => {
    const account = await json(["account", "create", "--name", "acme", "--credits", "10"]);
    expect(account).toMatchObject({ name: "acme", balance: 10, keys: 0 });

    const plan = await json(["plan", "create", "--name", "starter", "--monthly-credits", "500"]);
    expect(plan).toMatchObject({ name: "starter", monthly_credits: 500 });
    expect((await json(["plan", "list"])).plans).toHaveLength(1);

    const subscription = await json([
      "subscription",
      "start",
      account.id,
      "--plan",
      "starter",
      "--months",
      "6",
    ]);
    expect(subscription).toMatchObject({ plan: "starter", account_id: account.id });

    const key = await json(["key", "create", account.id, "--name", "prod"]);
    expect(key.key).toMatch(/^sk-/);
    expect((await json(["key", "list", account.id])).keys).toHaveLength(1);

    const granted = await json(["credits", "grant", account.id, "90", "--reason", "invoice 7"]);
    expect(granted).toMatchObject({ applied: true, balance: 600 });
    // A negative number is the amount, not an option.
    const adjusted = await json(["credits", "adjust", account.id, "-100", "--reason", "refund"]);
    expect(adjusted).toMatchObject({ applied: true, balance: 500, available: 500 });

    const shown = await json(["account", "show", account.id]);
    expect(shown).toMatchObject({
      balance: 500,
      keys: 1,
      subscription: { plan: "starter", id: subscription.id },
    });

    await json(["account", "disable", account.id]);
    const refused = await stack.request("GET", "/v1/credits", { key: key.key });
    expect(refused.status).toBe(403);
    await json(["account", "enable", account.id]);
    expect((await stack.request("GET", "/v1/credits", { key: key.key })).status).toBe(200);

    await json(["key", "revoke", account.id, key.id]);
    expect((await stack.request("GET", "/v1/credits", { key: key.key })).status).toBe(401);

    const canceled = await json(["subscription", "cancel", account.id, subscription.id]);
    expect(canceled.canceled_at).toEqual(expect.any(Number));
    const listed = await json(["account", "list", "--limit", "100"]);
    expect(listed.accounts.map((a: { id: string }) => a.id)).toContain(account.id);
  });

  it("prints a person's summary without --json", async () => {
    const run = await runCli(["account", "create", "--name", "plain", "--credits", "5"], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Created account acct_\S+ \(plain\) with 5 credits\./);
  });

  it("refuses what the API refuses, with its message, exit 1", async () => {
    const account = await json(["account", "create", "--name", "poor"]);
    const run = await runCli(["credits", "adjust", account.id, "-1", "--reason", "too much"], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("below 0");
    expect(run.stderr).toContain("HTTP 409");
  });

  it("says what is missing: the admin credential, a reason", async () => {
    const noToken = await runCli(["account", "list"], { RIPEN_API_URL: stack.apiUrl });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain("ADMIN_TOKEN");
    const noReason = await runCli(["credits", "grant", "acct_x", "5"], env);
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toContain("--reason");
    const wrongToken = await runCli(["account", "list"], { ...env, ADMIN_TOKEN: "nope" });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain("invalid_api_key");
  });
});
