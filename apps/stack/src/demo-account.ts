import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { authenticateApiKey, createAccount } from "@ripen/core";
import { accounts, type Database } from "@ripen/db";

export const DEMO_CREDITS = 1000;

export type DemoAccount =
  | { state: "created"; accountId: string; apiKey: string; keyFile: string }
  | { state: "exists"; keyFile: string }
  /** Accounts exist, but the key file is missing or holds a key of another database. */
  | { state: "unknown"; keyFile: string };

/**
 * On a database without accounts, creates the demo account and saves its key to `keyFile` (the
 * key is shown once and only its hash is stored, so the file is the only copy).
 */
export async function ensureDemoAccount(db: Database, keyFile: string): Promise<DemoAccount> {
  const [any] = await db.select({ id: accounts.id }).from(accounts).limit(1);
  if (!any) {
    const { accountId, apiKey } = await createAccount(db, { name: "demo", credits: DEMO_CREDITS });
    await mkdir(path.dirname(keyFile), { recursive: true });
    await writeFile(keyFile, `${apiKey}\n`, { mode: 0o600 });
    return { state: "created", accountId, apiKey, keyFile };
  }
  if (existsSync(keyFile)) {
    const saved = (await readFile(keyFile, "utf8")).trim();
    if (await authenticateApiKey(db, saved)) return { state: "exists", keyFile };
  }
  return { state: "unknown", keyFile };
}
