import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { authenticateApiKey, createAccount } from "@ripen/core";
import { accounts } from "@ripen/db";
import { createTestDatabase, type TestDatabase } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoKeyStore, ensureDemoAccount } from "./demo-account";

describe("npm start's demo key, across databases", () => {
  let a: TestDatabase;
  let b: TestDatabase;
  let dataDir: string;
  let keyFile: string;

  beforeAll(async () => {
    [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    dataDir = await mkdtemp(path.join(os.tmpdir(), "ripen-stack-"));
    keyFile = path.join(dataDir, "demo-api-key");
  });
  afterAll(async () => {
    await Promise.all([a?.drop(), b?.drop()]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const savedKey = async () => (await readFile(keyFile, "utf8")).trim();
  const accountCount = async (db: TestDatabase) => (await db.db.select().from(accounts)).length;

  it("leaves a key of the database in use, and keeps it across restarts", async () => {
    const first = await ensureDemoAccount(a.db, keyFile);
    expect(first.state).toBe("created");
    const keyOfA = await savedKey();
    expect(await authenticateApiKey(a.db, keyOfA)).not.toBeNull();

    // B is a database in use (it has an account of its own), not a fresh one.
    await createAccount(b.db, { name: "someone else", credits: 10 });
    const onB = await ensureDemoAccount(b.db, keyFile);
    const keyOfB = await savedKey();
    expect(await authenticateApiKey(b.db, keyOfB)).not.toBeNull();
    expect(onB.state).toBe("created");
    expect(await accountCount(b)).toBe(2);

    // A restart on B: the same key, no new account.
    const again = await ensureDemoAccount(b.db, keyFile);
    expect(again).toMatchObject({ state: "exists", switched: false });
    expect(await savedKey()).toBe(keyOfB);
    expect(await accountCount(b)).toBe(2);

    // Back on A: A's own key again, no second demo account.
    const back = await ensureDemoAccount(a.db, keyFile);
    expect(back).toMatchObject({ state: "exists", switched: true });
    expect(await savedKey()).toBe(keyOfA);
    expect(await accountCount(a)).toBe(1);
  });

  it("adopts a key saved before the per-database store existed", async () => {
    const legacyDir = await mkdtemp(path.join(os.tmpdir(), "ripen-stack-legacy-"));
    try {
      const legacyFile = path.join(legacyDir, "demo-api-key");
      const { accountId, apiKey } = await createAccount(a.db, { name: "demo", credits: 1 });
      await writeFile(legacyFile, `${apiKey}\n`);
      const before = await accountCount(a);
      const result = await ensureDemoAccount(a.db, legacyFile);
      expect(result).toMatchObject({ state: "exists", accountId, switched: false });
      expect(await accountCount(a)).toBe(before);
      const stored = await readFile(path.join(demoKeyStore(legacyFile), accountId), "utf8");
      expect(stored.trim()).toBe(apiKey);
    } finally {
      await rm(legacyDir, { recursive: true, force: true });
    }
  });
});
