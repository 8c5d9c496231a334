/**
 * Operator commands against the database in DATABASE_URL (not the API): accounts, credits,
 * margins. They apply pending migrations first.
 */
import { loadEnv, sharedEnv } from "@ripen/config";
import { createAccount, getCredits, grantCredits, marginByProvider } from "@ripen/core";
import { createDb, type DbHandle, ensureDatabase, migrateDatabase } from "@ripen/db";
import { allowOnly, UsageError, type Values } from "./options";

function parseCredits(
  raw: string | undefined,
  what: string,
  { allowZero }: { allowZero: boolean },
) {
  if (raw === undefined) throw new UsageError(`${what} is required.`);
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || (!allowZero && value === 0)) {
    const expected = allowZero ? "a whole number ≥ 0" : "a positive whole number";
    throw new UsageError(`${what} must be ${expected}, got '${raw}'.`);
  }
  return value;
}

export async function openDatabase(): Promise<DbHandle> {
  const env = loadEnv(sharedEnv);
  await ensureDatabase(env.DATABASE_URL);
  await migrateDatabase(env.DATABASE_URL);
  return createDb(env.DATABASE_URL, {
    max: 2,
    preparedStatements: env.DATABASE_PREPARED_STATEMENTS,
  });
}

export async function accountCreate(rest: string[], values: Values): Promise<number> {
  allowOnly("account create --db", values, ["db", "name", "credits"]);
  if (rest.length > 0) throw new UsageError(`Unexpected arguments: ${rest.join(" ")}`);
  const name = values.name?.trim();
  if (!name) throw new UsageError("--name is required.");
  const credits =
    values.credits === undefined
      ? 0
      : parseCredits(values.credits, "--credits", { allowZero: true });
  const db = await openDatabase();
  try {
    const { accountId, apiKey } = await createAccount(db.db, { name, credits });
    if (values.json) {
      console.log(JSON.stringify({ accountId, apiKey }));
    } else {
      console.log(`Created account ${accountId} (${name}) with ${credits} credits.`);
      console.log(`API key (shown once): ${apiKey}`);
    }
  } finally {
    await db.close();
  }
  return 0;
}

export async function creditsGrant(rest: string[], values: Values): Promise<number> {
  if (values.name !== undefined || values.credits !== undefined) {
    throw new UsageError("credits grant takes ACCOUNT_ID and N as arguments, not options.");
  }
  allowOnly("credits grant --db", values, ["db"]);
  const [accountId, amount, ...extra] = rest;
  if (!accountId || amount === undefined || extra.length > 0) {
    throw new UsageError("credits grant needs exactly ACCOUNT_ID and N.");
  }
  const credits = parseCredits(amount, "N", { allowZero: false });
  const db = await openDatabase();
  try {
    await grantCredits(db.db, { accountId, amount: credits, memo: "granted with the CLI" });
    const now = await getCredits(db.db, accountId);
    if (values.json) {
      console.log(JSON.stringify({ accountId, ...now }));
    } else {
      console.log(
        `Granted ${credits} credits to ${accountId}: balance ${now.balance}, held ${now.held}, available ${now.available}.`,
      );
    }
  } finally {
    await db.close();
  }
  return 0;
}

export async function reportMargin(rest: string[], values: Values): Promise<number> {
  allowOnly("report margin", values, ["since", "credit-usd"]);
  if (rest.length > 0) throw new UsageError(`Unexpected arguments: ${rest.join(" ")}`);
  const since = values.since === undefined ? new Date(0) : new Date(values.since);
  if (Number.isNaN(since.getTime()))
    throw new UsageError(`--since must be a date, got '${values.since}'.`);
  const creditUsd = values["credit-usd"] === undefined ? 0.005 : Number(values["credit-usd"]);
  if (!(creditUsd > 0)) throw new UsageError("--credit-usd must be a positive number.");
  const db = await openDatabase();
  try {
    const rows = (await marginByProvider(db.db, since)).map((row) => {
      const chargedUsd = row.chargedCredits * creditUsd;
      return { ...row, chargedUsd, marginUsd: chargedUsd - row.upstreamUsd };
    });
    if (values.json) {
      console.log(JSON.stringify(rows));
    } else {
      console.table(
        rows.map((r) => ({
          provider: r.provider,
          attempts: r.attempts,
          succeeded: r.succeeded,
          "upstream credits": r.upstreamCredits,
          "upstream $": r.upstreamUsd.toFixed(4),
          "charged credits": r.chargedCredits,
          "charged $": r.chargedUsd.toFixed(4),
          "margin $": r.marginUsd.toFixed(4),
        })),
      );
    }
  } finally {
    await db.close();
  }
  return 0;
}
