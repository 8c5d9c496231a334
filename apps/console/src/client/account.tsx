import { useState } from "preact/hooks";
import { apiFetch, type Credential, when } from "../api";
import { DayChart, ErrorNote, Loaded, Section, useAction, useApi } from "../ui/shared";

interface Key {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  status: string;
  ip_allowlist: string[] | null;
  rate_limit_per_minute: number | null;
  spend_limit_daily: number | null;
  created_at: number;
}
interface LedgerEntry {
  id: string;
  kind: string;
  amount: number;
  balance_after: number;
  task_id: string | null;
  created_at: number;
}

export function CreditsPage({ credential }: { credential: Credential }) {
  const credits = useApi<{ balance: number; held: number; credits: number }>(
    credential,
    "/v1/credits",
  );
  const [cursor, setCursor] = useState<string | null>(null);
  const ledger = useApi<{ entries: LedgerEntry[]; next_cursor: string | null }>(
    credential,
    `/v1/credits/ledger?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
  );
  const usage = useApi<{ usage: { day: string; model: string; charged_credits: number }[] }>(
    credential,
    "/v1/usage?group_by=day,model",
  );
  return (
    <>
      <Section title="Credits">
        <Loaded state={credits}>
          {(c) => (
            <dl class="figures">
              <dt>Available</dt>
              <dd class="num" data-testid="available">
                {c.credits}
              </dd>
              <dt>Balance</dt>
              <dd class="num">{c.balance}</dd>
              <dt>Held by tasks in flight</dt>
              <dd class="num">{c.held}</dd>
            </dl>
          )}
        </Loaded>
      </Section>
      <Section title="Usage per day and model (credits)">
        <Loaded state={usage}>
          {(u) => (
            <DayChart
              unit="credits"
              rows={u.usage.map((r) => ({ day: r.day, series: r.model, value: r.charged_credits }))}
            />
          )}
        </Loaded>
      </Section>
      <Section title="Statement">
        <Loaded
          state={ledger}
          empty={(d) => d.entries.length === 0}
          emptyText="No ledger entries yet."
        >
          {(d) => (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Kind</th>
                    <th class="num">Amount</th>
                    <th class="num">Balance after</th>
                    <th>Task</th>
                  </tr>
                </thead>
                <tbody>
                  {d.entries.map((e) => (
                    <tr key={e.id}>
                      <td>{when(e.created_at)}</td>
                      <td>{e.kind}</td>
                      <td class="num">{e.amount}</td>
                      <td class="num">{e.balance_after}</td>
                      <td>{e.task_id && <a href={`#/task/${e.task_id}`}>{e.task_id}</a>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {d.next_cursor && (
                <button type="button" onClick={() => setCursor(d.next_cursor)}>
                  Older entries
                </button>
              )}
            </div>
          )}
        </Loaded>
      </Section>
    </>
  );
}

const listOf = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export function KeysPage({ credential }: { credential: Credential }) {
  const keys = useApi<{ keys: Key[] }>(credential, "/v1/keys");
  const secret = useApi<{ secret: string }>(credential, "/v1/webhook-secret");
  const [form, setForm] = useState({
    name: "",
    scopes: "read write",
    ips: "",
    rate: "",
    daily: "",
  });
  const [shown, setShown] = useState<{ id: string; key: string } | null>(null);
  const action = useAction();
  const set = (name: keyof typeof form) => (e: Event) =>
    setForm({ ...form, [name]: (e.target as HTMLInputElement).value });
  return (
    <>
      <Section title="New API key">
        <form
          class="create"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              const created = await apiFetch<{ id: string; key: string }>("/v1/keys", {
                credential,
                body: {
                  ...(form.name ? { name: form.name } : {}),
                  scopes: listOf(form.scopes),
                  ip_allowlist: form.ips ? listOf(form.ips) : null,
                  ...(form.rate ? { rate_limit_per_minute: Number(form.rate) } : {}),
                  ...(form.daily ? { spend_limit_daily: Number(form.daily) } : {}),
                },
              });
              setShown({ id: created.id, key: created.key });
              await keys.reload();
            });
          }}
        >
          <label>
            Name
            <input value={form.name} onInput={set("name")} />
          </label>
          <label>
            Scopes
            <input value={form.scopes} onInput={set("scopes")} />
          </label>
          <label>
            IP allowlist
            <input value={form.ips} onInput={set("ips")} placeholder="any address" />
          </label>
          <label>
            Requests per minute
            <input
              type="number"
              min={1}
              value={form.rate}
              onInput={set("rate")}
              placeholder="default"
            />
          </label>
          <label>
            Daily spend limit
            <input
              type="number"
              min={0}
              value={form.daily}
              onInput={set("daily")}
              placeholder="none"
            />
          </label>
          <button type="submit" disabled={action.busy}>
            Create key
          </button>
        </form>
        {shown && (
          <div class="once" role="status">
            <p>Copy this key now: it is shown once.</p>
            <code data-testid="new-key">{shown.key}</code>
          </div>
        )}
        <ErrorNote error={action.error} />
      </Section>
      <Section title="API keys">
        <Loaded state={keys} empty={(d) => d.keys.length === 0}>
          {(d) => (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Prefix</th>
                    <th>Scopes</th>
                    <th>Status</th>
                    <th>Limits</th>
                    <th>Created</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {d.keys.map((k) => (
                    <tr key={k.id} data-key={k.id}>
                      <td>{k.name}</td>
                      <td>
                        <code>{k.prefix}…</code>
                      </td>
                      <td>{k.scopes.join(", ")}</td>
                      <td>{k.status}</td>
                      <td>
                        {k.ip_allowlist ? `IPs ${k.ip_allowlist.join(", ")}; ` : ""}
                        {k.rate_limit_per_minute ? `${k.rate_limit_per_minute}/min; ` : ""}
                        {k.spend_limit_daily ? `${k.spend_limit_daily}/day` : ""}
                      </td>
                      <td>{when(k.created_at)}</td>
                      <td class="actions">
                        {k.status === "active" && (
                          <>
                            <button
                              type="button"
                              onClick={() =>
                                action.run(async () => {
                                  const rotated = await apiFetch<{ id: string; key: string }>(
                                    `/v1/keys/${k.id}/rotate`,
                                    { credential, body: {} },
                                  );
                                  setShown({ id: rotated.id, key: rotated.key });
                                  await keys.reload();
                                })
                              }
                            >
                              Rotate
                            </button>
                            <button
                              type="button"
                              class="danger"
                              onClick={() =>
                                action.run(async () => {
                                  await apiFetch(`/v1/keys/${k.id}/revoke`, {
                                    credential,
                                    method: "POST",
                                  });
                                  await keys.reload();
                                })
                              }
                            >
                              Revoke
                            </button>
                          </>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Loaded>
      </Section>
      <Section
        title="Webhook secret"
        actions={
          <button
            type="button"
            onClick={() =>
              action.run(async () => {
                await apiFetch("/v1/webhook-secret/rotate", { credential, method: "POST" });
                await secret.reload();
              })
            }
          >
            Rotate
          </button>
        }
      >
        <Loaded state={secret}>{(s) => <code class="secret">{s.secret}</code>}</Loaded>
      </Section>
    </>
  );
}
