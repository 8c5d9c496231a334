import { useState } from "preact/hooks";
import { apiFetch, type Credential, when } from "../api";
import { ErrorNote, Loaded, Section, useAction, useApi } from "../ui/shared";
import { count } from "./format";
import type { AccountRow, AccountPage as Page } from "./types";

const PAGE_SIZE = 20;

/** The accounts, newest first, a page at a time; and a form to open one. */
export function AccountsPage({ credential }: { credential: Credential }) {
  // The cursors of the pages seen so far: Previous steps back through them.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors.at(-1) ?? null;
  const list = useApi<Page>(
    credential,
    `/admin/v1/accounts?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
  );
  const [filter, setFilter] = useState("");
  const shown = (accounts: AccountRow[]) => {
    const needle = filter.trim().toLowerCase();
    return needle
      ? accounts.filter((a) => a.name.toLowerCase().includes(needle) || a.id.includes(needle))
      : accounts;
  };
  return (
    <>
      <Section title="Accounts">
        {/* The API lists by age only; the filter narrows the page shown. */}
        <label class="op-filter">
          Filter this page by name or id
          <input
            type="search"
            value={filter}
            onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          />
        </label>
        <Loaded state={list} empty={(d) => d.accounts.length === 0} emptyText="No accounts yet.">
          {(d) => {
            const rows = shown(d.accounts);
            return (
              <>
                {rows.length === 0 ? (
                  <p class="empty">No account on this page matches “{filter}”.</p>
                ) : (
                  <AccountTable rows={rows} />
                )}
                <nav class="pager" aria-label="Pages of accounts">
                  <button
                    type="button"
                    disabled={cursors.length === 1}
                    onClick={() => setCursors(cursors.slice(0, -1))}
                  >
                    Previous
                  </button>
                  <span class="muted op-page">Page {cursors.length}</span>
                  <button
                    type="button"
                    disabled={!d.next_cursor}
                    onClick={() => setCursors([...cursors, d.next_cursor])}
                  >
                    Next
                  </button>
                </nav>
              </>
            );
          }}
        </Loaded>
      </Section>
      <NewAccount credential={credential} />
    </>
  );
}

function AccountTable({ rows }: { rows: AccountRow[] }) {
  return (
    <table class="op-table op-accounts">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Account</th>
          <th scope="col" class="num">
            Available
          </th>
          <th scope="col" class="num">
            Held
          </th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((a) => (
          <tr key={a.id} data-account={a.id}>
            <th scope="row" data-label="Name">
              {a.name}
              {a.is_vip && <span class="op-tag">VIP</span>}
              {a.disabled_at !== null && <span class="op-tag op-tag-off">disabled</span>}
            </th>
            <td data-label="Account">
              <a href={`#/op/account/${a.id}`}>{a.id}</a>
            </td>
            <td class="num" data-label="Available">
              {count(a.available)}
            </td>
            <td class="num" data-label="Held">
              {count(a.held)}
            </td>
            <td data-label="Created">{when(a.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function NewAccount({ credential }: { credential: Credential }) {
  const empty = { name: "", credits: "", maxActive: "", vip: false };
  const [form, setForm] = useState(empty);
  const action = useAction();
  const text = (field: "name" | "credits" | "maxActive") => ({
    value: form[field],
    onInput: (e: Event) => setForm({ ...form, [field]: (e.target as HTMLInputElement).value }),
  });
  return (
    <Section title="New account">
      <form
        class="create"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            const account = await apiFetch<AccountRow>("/admin/v1/accounts", {
              credential,
              body: {
                name: form.name,
                ...(form.credits ? { credits: Number(form.credits) } : {}),
                ...(form.maxActive ? { max_active_tasks: Number(form.maxActive) } : {}),
                ...(form.vip ? { is_vip: true } : {}),
              },
            });
            setForm(empty);
            location.hash = `#/op/account/${account.id}`;
          });
        }}
      >
        <label>
          Name
          <input required maxLength={200} {...text("name")} />
        </label>
        <label>
          Opening credits
          <input type="number" min={0} step={1} inputMode="numeric" {...text("credits")} />
        </label>
        <label>
          Most tasks at once
          <input
            type="number"
            min={1}
            step={1}
            inputMode="numeric"
            placeholder="no limit"
            {...text("maxActive")}
          />
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={form.vip}
            onChange={(e) => setForm({ ...form, vip: (e.target as HTMLInputElement).checked })}
          />
          VIP
        </label>
        <button type="submit" disabled={action.busy}>
          Create account
        </button>
        <ErrorNote error={action.error} />
      </form>
    </Section>
  );
}
