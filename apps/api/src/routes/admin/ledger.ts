import { checkLedger } from "@ripen/core";
import { z } from "zod";
import { nativeEnvelope } from "../envelope";
import type { RegisterAdminRoutes } from "./deps";
import { ok } from "./shared";

export const ledgerCheckResponse = nativeEnvelope(
  z.object({
    accounts: z.int(),
    entries: z.int(),
    drift: z.array(
      z.object({
        rule: z.string(),
        row: z
          .record(z.string(), z.unknown())
          .meta({ description: "The ids involved, what is, what should be" }),
      }),
    ),
  }),
).meta({ id: "AdminLedgerCheck" });

/**
 * `GET /admin/v1/ledger/check`: `ripen ledger check` over the API: the ledger's invariants over
 * the whole database and each drift with the rows involved. Drift is an answer, not an error: 200.
 */
export const registerAdminLedger: RegisterAdminRoutes = (router, _callerOf, deps) => {
  router.get("/ledger/check", async (_req, res) => {
    const check = await checkLedger(deps.db);
    res.json(ok(check) satisfies z.input<typeof ledgerCheckResponse>);
  });
};
