/**
 * `ripen ledger check`: the ledger's invariants over the whole database in DATABASE_URL
 * (core's `checkLedger`, what `GET /admin/v1/ledger/check` answers too). Exit 1 on any drift.
 */
import { checkLedger } from "@ripen/core";
import { openDatabase } from "./operator";
import { allowOnly, UsageError, type Values } from "./options";

export async function ledgerCheck(rest: string[], values: Values): Promise<number> {
  allowOnly("ledger check", values, []);
  if (rest.length > 0) throw new UsageError(`Unexpected arguments: ${rest.join(" ")}`);
  const db = await openDatabase();
  try {
    const check = await checkLedger(db.db);
    if (values.json) {
      console.log(JSON.stringify(check));
    } else {
      console.log(
        `ledger check: ${check.accounts} accounts, ${check.entries} entries, ${check.drift.length} drift`,
      );
      for (const drift of check.drift) console.log(`  ${drift.rule}: ${JSON.stringify(drift.row)}`);
    }
    return check.drift.length > 0 ? 1 : 0;
  } finally {
    await db.close();
  }
}
