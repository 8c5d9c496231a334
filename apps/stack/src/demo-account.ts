import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { authenticateApiKey, createAccount } from "@ripen/core";
import { accounts, type Database } from "@ripen/db";

export const DEMO_CREDITS = 1000;

export type DemoAccount =
  | {
      state: "created";
      accountId: string;
      apiKey: string;
      keyFile: string;
      /** The database had accounts already, but no saved demo key authenticated against it. */
      databaseInUse: boolean;
    }
  | {
      state: "exists";
      accountId: string;
      keyFile: string;
      /** `keyFile` held another database's key and now holds this one's. */
      switched: boolean;
    };

/** Where every demo key is kept, one file per demo account: `<keyFile's dir>/demo-keys/`. */
export function demoKeyStore(keyFile: string): string {
  return path.join(path.dirname(keyFile), "demo-keys");
}

/**
 * Leaves in `keyFile` an API key that authenticates against `db`, so the walkthrough's
 * `cat .data/demo-api-key` works whichever database `npm start` was pointed at.
 *
 * A key is shown once and only its hash is stored, so the saved file is its only copy: each demo
 * account's key is kept in `demoKeyStore(keyFile)/<account id>`, and `keyFile` is a copy of the
 * one for the database in use. The key to use is found by asking the database (core's
 * authenticateApiKey), not by matching its URL, so one database under two URLs (localhost,
 * 127.0.0.1) keeps one key. Only when no saved key authenticates is a demo account created: a
 * restart, or a return to a database used before, keeps its account and key.
 */
export async function ensureDemoAccount(db: Database, keyFile: string): Promise<DemoAccount> {
  const store = demoKeyStore(keyFile);
  const current = await readKey(keyFile);
  for (const key of await savedKeys(keyFile, store)) {
    const principal = await authenticateApiKey(db, key);
    if (!principal) continue;
    // A key from before the store existed (or typed in by hand) is kept there too.
    const stored = path.join(store, principal.accountId);
    if ((await readKey(stored)) !== key) await writeKey(stored, key);
    const switched = key !== current;
    if (switched) await writeKey(keyFile, key);
    return { state: "exists", accountId: principal.accountId, keyFile, switched };
  }
  const [any] = await db.select({ id: accounts.id }).from(accounts).limit(1);
  const { accountId, apiKey } = await createAccount(db, { name: "demo", credits: DEMO_CREDITS });
  // The store first: if writing the second file fails, the key is not lost.
  await writeKey(path.join(store, accountId), apiKey);
  await writeKey(keyFile, apiKey);
  return { state: "created", accountId, apiKey, keyFile, databaseInUse: Boolean(any) };
}

/** `keyFile`'s key first (the usual restart costs one lookup), then the store's, newest first. */
async function savedKeys(keyFile: string, store: string): Promise<string[]> {
  const keys = [await readKey(keyFile)];
  if (existsSync(store)) {
    const names = (await readdir(store, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && !entry.name.includes(".tmp-"))
      .map((entry) => entry.name)
      .sort()
      .reverse();
    for (const name of names) keys.push(await readKey(path.join(store, name)));
  }
  return [...new Set(keys.filter((key): key is string => Boolean(key)))];
}

/** The secret saved in `file`, trimmed; null when there is none. */
export async function readKey(file: string): Promise<string | null> {
  try {
    return (await readFile(file, "utf8")).trim() || null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Written aside and renamed, so a crash never leaves a half-written key. */
export async function writeKey(file: string, key: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, `${key}\n`, { mode: 0o600 });
  await rename(temporary, file);
}
