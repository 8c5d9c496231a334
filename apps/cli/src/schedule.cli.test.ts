import { scheduleRuns } from "@ripen/db";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { image, runCli, video, writeJsonl } from "./cli-helpers";

let stack: TestStack;
let env: Record<string, string>;

beforeAll(async () => {
  stack = await startTestStack();
  const { apiKey } = await stack.createAccount(10_000);
  env = { RIPEN_API_URL: stack.apiUrl, RIPEN_API_KEY: apiKey };
});
afterAll(() => stack?.close());

describe("ripen schedule (over HTTP, as a user)", () => {
  it("creates, lists, reads, pauses, resumes, shows runs of and deletes a schedule", async () => {
    const file = await writeJsonl([image("banner"), video("teaser")]);
    const created = await runCli(
      ["schedule", "create", "--cron", "0 7 * * *", "--timezone", "Europe/Paris", "--file", file],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^sched_/);
    expect(created.stderr).toContain('cron "0 7 * * *" in Europe/Paris, 2 requests a run');

    const listed = await runCli(["schedule", "list"], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(id);

    const got = await runCli(["schedule", "get", id, "--json"], env);
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({
      id,
      cron: "0 7 * * *",
      timezone: "Europe/Paris",
    });

    const paused = await runCli(["schedule", "pause", id], env);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toContain(`Paused schedule ${id}`);
    const afterPause = JSON.parse((await runCli(["schedule", "get", id, "--json"], env)).stdout);
    expect(afterPause.state).toBe("paused");

    const resumed = await runCli(["schedule", "resume", id], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const afterResume = JSON.parse((await runCli(["schedule", "get", id, "--json"], env)).stdout);
    expect(afterResume.state).toBe("active");

    const updated = await runCli(["schedule", "update", id, "--cron", "30 6 * * 1-5"], env);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toContain('cron "30 6 * * 1-5"');

    const runs = await runCli(["schedule", "runs", id], env);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stderr).toContain(`No runs of schedule ${id} yet.`);

    const deleted = await runCli(["schedule", "delete", id], env);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain(`Deleted schedule ${id}`);
    const gone = await runCli(["schedule", "get", id], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/HTTP 404/);
  });

  it("refuses a bad cron with the API's message, exit 1", async () => {
    const file = await writeJsonl([image("banner")]);
    const run = await runCli(
      ["schedule", "create", "--cron", "not a cron", "--timezone", "Europe/Paris", "--file", file],
      env,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/invalid_request, HTTP 400/);
  });

  it("needs --cron, --timezone and --file before calling the API", async () => {
    const run = await runCli(["schedule", "create", "--cron", "0 7 * * *"], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("--timezone is required");
  });

  it("shows a schedule's runs and the batch each created, which a watch follows to the end", async () => {
    const file = await writeJsonl([image("every second")]);
    const created = await runCli(
      ["schedule", "create", "--cron", "* * * * * *", "--timezone", "UTC", "--file", file],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.trim();
    const run = await vi.waitFor(
      async () => {
        const [first] = await stack.db.db
          .select()
          .from(scheduleRuns)
          .where(eq(scheduleRuns.scheduleId, id));
        if (!first?.batchId) throw new Error("no run yet");
        return first;
      },
      { timeout: 10_000, interval: 100 },
    );
    // Stop it before watching, so the runs listed below are the ones already made.
    expect((await runCli(["schedule", "pause", id], env)).code).toBe(0);

    const runs = await runCli(["schedule", "runs", id], env);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toContain(`batch ${run.batchId}`);
    expect(runs.stdout).toContain(run.scheduledFor.toISOString());

    const watched = await runCli(["batch", "watch", run.batchId!], env);
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toContain("succeeded 1, failed 0");
    expect((await runCli(["schedule", "delete", id], env)).code).toBe(0);
  });
});
