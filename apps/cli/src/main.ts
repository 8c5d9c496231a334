/**
 * Operator commands against the database in DATABASE_URL. Results go to stdout (JSON with
 * --json, for scripts); everything else goes to stderr. Use `npm run -s ripen -- …` so npm's own
 * banner stays off stdout.
 */
import { parseArgs } from "node:util";
import { loadEnv, sharedEnv } from "@ripen/config";
import {
  createAccount,
  DomainError,
  getCredits,
  grantCredits,
  marginByProvider,
} from "@ripen/core";
import { createDb, type DbHandle, ensureDatabase, migrateDatabase } from "@ripen/db";

const USAGE = `Usage:
  npm run -s ripen -- account create --name NAME [--credits N] [--json]
  npm run -s ripen -- credits grant ACCOUNT_ID N [--json]
  npm run -s ripen -- report margin [--since ISO_DATE] [--credit-usd 0.005] [--json]
      per provider: attempts, what the upstream charged (its credits and USD), what clients
      paid for the tasks it completed, and the margin (a Ripen credit worth --credit-usd)

Uses DATABASE_URL (default postgres://postgres:postgres@127.0.0.1:5432/ripen) and applies
pending migrations first.`;

/** Bad input from the operator: printed with the usage, exit code 1. */
class UsageError extends Error {}

const options = {
  name: { type: "string" },
  credits: { type: "string" },
  json: { type: "boolean", default: false },
  since: { type: "string" },
  "credit-usd": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

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

async function openDatabase(): Promise<DbHandle> {
  const env = loadEnv(sharedEnv);
  await ensureDatabase(env.DATABASE_URL);
  await migrateDatabase(env.DATABASE_URL);
  return createDb(env.DATABASE_URL, { max: 2 });
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Node reports a refused dual-stack connect as an AggregateError with an empty message. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message) return error.message;
  const nested = (error as { errors?: unknown }).errors;
  return Array.isArray(nested) ? nested.map(describe).join("; ") : error.name;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const [group, command, ...rest] = positionals;

  if (group === "account" && command === "create") {
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
    return;
  }

  if (group === "credits" && command === "grant") {
    if (values.name !== undefined || values.credits !== undefined) {
      throw new UsageError("credits grant takes ACCOUNT_ID and N as arguments, not options.");
    }
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
    return;
  }

  if (group === "report" && command === "margin") {
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
    return;
  }

  throw new UsageError(
    positionals.length ? `Unknown command: ${positionals.join(" ")}` : "No command given.",
  );
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`ripen: ${error.message}\n\n${USAGE}`);
  } else if (error instanceof DomainError) {
    // AccountNotFound, InvalidRequest: the operator's mistake, said plainly.
    console.error(`ripen: ${error.message}`);
  } else {
    console.error(`ripen: ${describe(error)}`);
  }
  process.exitCode = 1;
}
