/**
 * `ripen usage`: tasks, credits charged, upstream cost and margin per account, key, model, door,
 * provider or day, from the database in DATABASE_URL (core's `usage`, what
 * `GET /admin/v1/usage` answers too).
 */
import { DEFAULT_CREDIT_USD, type UsageGroup, usage, usageGroups } from "@ripen/core";
import { stringify } from "csv-stringify/sync";
import { openDatabase } from "./operator";
import { allowOnly, UsageError, type Values } from "./options";

function dateOption(raw: string | undefined, name: string): Date | undefined {
  if (raw === undefined) return undefined;
  const date = new Date(raw);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--${name} must be a date, got '${raw}'.`);
  return date;
}

function groupsOption(raw: string | undefined): UsageGroup[] {
  if (raw === undefined) return ["account", "day"];
  return raw.split(",").map((group) => {
    const name = group.trim();
    if (!(usageGroups as readonly string[]).includes(name)) {
      throw new UsageError(`--group-by takes ${usageGroups.join(", ")}; got '${name}'.`);
    }
    return name as UsageGroup;
  });
}

export async function usageReport(rest: string[], values: Values): Promise<number> {
  allowOnly("usage", values, ["account", "from", "to", "group-by", "credit-usd", "csv"]);
  if (rest.length > 0) throw new UsageError(`Unexpected arguments: ${rest.join(" ")}`);
  if (values.csv && values.json) throw new UsageError("--csv and --json: choose one.");
  const creditUsd =
    values["credit-usd"] === undefined ? DEFAULT_CREDIT_USD : Number(values["credit-usd"]);
  if (!(creditUsd > 0)) throw new UsageError("--credit-usd must be a positive number.");
  const args = {
    accountId: values.account,
    from: dateOption(values.from, "from"),
    to: dateOption(values.to, "to"),
    groupBy: groupsOption(values["group-by"]),
    creditUsd,
  };
  const db = await openDatabase();
  try {
    const rows = await usage(db.db, args);
    if (values.json) {
      console.log(JSON.stringify(rows));
    } else if (values.csv) {
      process.stdout.write(stringify(rows, { header: true }));
    } else {
      console.table(rows);
    }
  } finally {
    await db.close();
  }
  return 0;
}
