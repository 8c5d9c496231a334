import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { batches } from "@ripen/db";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { image, runCli, startCli, video, writeJsonl } from "./cli-helpers";

let stack: TestStack;
let accountId: string;
let apiKey: string;
let env: Record<string, string>;

// No worker at first: the cancel test needs items that stay queued; the worker starts after it.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ accountId, apiKey } = await stack.createAccount(10_000));
  env = { RIPEN_API_URL: stack.apiUrl, RIPEN_API_KEY: apiKey };
});
afterAll(() => stack?.close());

const batchesOfAccount = async () =>
  stack.db.db.select().from(batches).where(eq(batches.accountId, accountId));
const available = async () => {
  const res = await stack.request("GET", "/v1/credits", { key: apiKey });
  return res.body.data.credits as number;
};

describe("ripen batch (over HTTP, as a user)", () => {
  it("refuses a malformed JSONL line by its number and sends nothing", async () => {
    const file = await writeJsonl([image("a"), "{not json", "", image("c"), "[1,2]"]);
    const run = await runCli(["batch", "submit", file], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("line 2: not JSON");
    expect(run.stderr).toContain("line 5: expected a JSON object");
    expect(run.stderr).toContain("nothing was sent");
    expect(await batchesOfAccount()).toHaveLength(0);
  });

  it("prints the envelope's message for a bad key, exit 1", async () => {
    const wrong = await stack.request("GET", "/v1/credits", { key: "sk-wrong" });
    expect(wrong.status).toBe(401);
    const run = await runCli(["batch", "status", "batch_nope"], {
      ...env,
      RIPEN_API_KEY: "sk-wrong",
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(wrong.body.error.message);
    expect(run.stderr).toContain("invalid_api_key");
  });

  it("says which API URL it could not reach", async () => {
    const run = await runCli(["batch", "status", "batch_x"], {
      RIPEN_API_URL: "http://127.0.0.1:9",
      RIPEN_API_KEY: apiKey,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("cannot reach the API at http://127.0.0.1:9");
  });

  it("names the file's lines of the items the API refused; --partial accepts the rest", async () => {
    const file = await writeJsonl([image("ok"), "", { model: "no-such-model", input: {} }]);
    const refused = await runCli(["batch", "submit", file], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/line 3 \(item 1\)/);
    expect(await batchesOfAccount()).toHaveLength(0);

    const partial = await runCli(["batch", "submit", file, "--partial"], env);
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stdout.trim()).toMatch(/^batch_/);
    expect(partial.stderr).toContain("Accepted 1 of 2");
    expect(partial.stderr).toMatch(/line 3 \(item 1\)/);
  });

  it("cancels a batch and says what was refunded", async () => {
    const before = await available();
    const file = await writeJsonl([image("a"), image("b"), video("c")]);
    const submitted = await runCli(["batch", "submit", file], env);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    expect(await available()).toBeLessThan(before);

    // Ctrl+C stops the watching, not the batch, and says how to resume.
    const watching = startCli(["batch", "watch", id], env);
    await vi.waitFor(() => expect(watching.output.stderr).toContain("0/3 done"), {
      timeout: 10_000,
    });
    watching.child.kill("SIGINT");
    const interrupted = await watching.done;
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toContain(`batch ${id} keeps running`);
    expect(interrupted.stderr).toContain(`npm run -s ripen -- batch watch ${id}`);

    const canceled = await runCli(["batch", "cancel", id], env);
    expect(canceled.code, canceled.stderr).toBe(0);
    expect(canceled.stdout).toContain(`Canceled batch ${id}: 3 items canceled`);
    expect(await available()).toBe(before);

    const again = await runCli(["batch", "status", id, "--json"], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ id, state: "canceled" });

    // A watch of a batch that ended otherwise than all succeeded: its summary, exit 1.
    const watched = await runCli(["batch", "watch", id], env);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toContain("succeeded 0, failed 0, canceled 3, expired 0");
  });

  it("submits images and videos, watches them finish, and downloads the results", async () => {
    await stack.startWorker();
    const before = await available();
    const file = await writeJsonl([image("a cat"), "", video("a dog"), image("a bird")]);
    const run = await runCli(["batch", "submit", file, "--watch"], env);
    expect(run.code, run.stderr).toBe(0);
    const [id, ...summary] = run.stdout.trim().split("\n");
    expect(id).toMatch(/^batch_/);
    // Not a terminal: one plain line per change, the last one complete.
    expect(run.stderr).not.toContain("\r");
    expect(run.stderr).toMatch(/100% · 3\/3 done · 0 failed/);
    const text = summary.join("\n");
    expect(text).toContain("succeeded 3, failed 0, canceled 0, expired 0");
    const status = JSON.parse((await runCli(["batch", "status", id!, "--json"], env)).stdout);
    expect(status.credits.captured).toBeGreaterThan(0);
    expect(text).toContain(`credits captured ${status.credits.captured}, released 0`);
    expect(await available()).toBe(before - status.credits.captured);

    const jsonl = await runCli(["batch", "results", id!], env);
    expect(jsonl.code, jsonl.stderr).toBe(0);
    const rows = jsonl.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(rows).toHaveLength(3);

    const output = join(await import("node:os").then((os) => os.tmpdir()), `${id}.csv`);
    const csv = await runCli(["batch", "results", id!, "--format", "csv", "--output", output], env);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout).toBe("");
    const lines = (await readFile(output, "utf8")).trim().split(/\r?\n/);
    expect(lines).toHaveLength(4);

    const watchAgain = await runCli(["batch", "watch", id!], env);
    expect(watchAgain.code).toBe(0);
    expect(watchAgain.stdout).toContain("succeeded 3");
  });
});
