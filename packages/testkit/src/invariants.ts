import { checkLedger } from "@ripen/core";
import type { Executor } from "@ripen/db";

export interface InvariantViolation {
  rule: string;
  row: Record<string, unknown>;
}

/**
 * The ledger invariants of the design, checked against the database as a whole: what
 * `ripen ledger check` reports (core's `checkLedger`), written once for both.
 */
export async function ledgerViolations(db: Executor): Promise<InvariantViolation[]> {
  return (await checkLedger(db)).drift;
}
