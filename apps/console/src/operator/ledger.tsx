import type { Credential } from "../api";
import { Loaded, Section, useApi } from "../ui/shared";
import { count } from "./format";
import type { LedgerCheck } from "./types";

/** The ledger's invariants over the whole database (`ripen ledger check`), run on demand. */
export function LedgerPage({ credential }: { credential: Credential }) {
  const check = useApi<LedgerCheck>(credential, "/admin/v1/ledger/check");
  return (
    <Section
      title="Ledger check"
      actions={
        <button type="button" onClick={() => void check.reload()} disabled={check.loading}>
          {check.loading ? "Checking…" : "Check again"}
        </button>
      }
    >
      <Loaded state={check}>
        {(c) => (
          <>
            <p class={c.drift.length ? "op-bad" : "op-good"} role="status">
              {c.drift.length
                ? `${count(c.drift.length)} drift${c.drift.length === 1 ? "" : "s"} found`
                : "The books balance"}{" "}
              over {count(c.accounts)} accounts and {count(c.entries)} ledger entries.
            </p>
            {c.drift.length > 0 && (
              <table class="op-table">
                <thead>
                  <tr>
                    <th scope="col">Rule</th>
                    <th scope="col">Rows involved</th>
                  </tr>
                </thead>
                <tbody>
                  {c.drift.map((d, i) => (
                    <tr key={i}>
                      <th scope="row" data-label="Rule">
                        {d.rule}
                      </th>
                      <td data-label="Rows">
                        <code>{JSON.stringify(d.row)}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </Loaded>
    </Section>
  );
}
