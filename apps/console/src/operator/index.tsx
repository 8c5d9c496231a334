import { useEffect, useState } from "preact/hooks";
import { apiFetch, type Credential, when } from "../api";
import { Nav } from "../ui/nav";
import { DayChart, ErrorNote, Loaded, Section, useAction, useApi } from "../ui/shared";

interface AccountRow {
  id: string;
  name: string;
  balance: number;
  held: number;
  available: number;
  is_vip: boolean;
  disabled_at: number | null;
  created_at: number;
}

export function AccountsPage({ credential }: { credential: Credential }) {
  const [cursor, setCursor] = useState<string | null>(null);
  const list = useApi<{ accounts: AccountRow[]; next_cursor: string | null }>(
    credential,
    `/admin/v1/accounts?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
  );
  const [form, setForm] = useState({ name: "", credits: "" });
  const action = useAction();
  return (
    <>
      <Section title="New account">
        <form
          class="create"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              await apiFetch("/admin/v1/accounts", {
                credential,
                body: {
                  name: form.name,
                  ...(form.credits ? { credits: Number(form.credits) } : {}),
                },
              });
              setForm({ name: "", credits: "" });
              await list.reload();
            });
          }}
        >
          <label>
            Name
            <input
              required
              value={form.name}
              onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })}
            />
          </label>
          <label>
            Credits
            <input
              type="number"
              min={0}
              value={form.credits}
              onInput={(e) => setForm({ ...form, credits: (e.target as HTMLInputElement).value })}
            />
          </label>
          <button type="submit" disabled={action.busy}>
            Create account
          </button>
          <ErrorNote error={action.error} />
        </form>
      </Section>
      <Section title="Accounts">
        <Loaded state={list} empty={(d) => d.accounts.length === 0} emptyText="No accounts yet.">
          {(d) => (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Account</th>
                    <th>Name</th>
                    <th class="num">Available</th>
                    <th class="num">Held</th>
                    <th>Created</th>
                  </tr>
                </thead>
                <tbody>
                  {d.accounts.map((a) => (
                    <tr key={a.id}>
                      <td>
                        <a href={`#/op/account/${a.id}`}>{a.id}</a>
                      </td>
                      <td>
                        {a.name}
                        {a.disabled_at ? " (disabled)" : ""}
                      </td>
                      <td class="num">{a.available}</td>
                      <td class="num">{a.held}</td>
                      <td>{when(a.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {d.next_cursor && (
                <button type="button" onClick={() => setCursor(d.next_cursor)}>
                  More
                </button>
              )}
            </div>
          )}
        </Loaded>
      </Section>
    </>
  );
}

interface AccountDetail extends AccountRow {
  total_granted: number;
  active_tasks: number;
  subscription: { plan_id?: string; state?: string } | null;
}

export function AccountPage({ credential, id }: { credential: Credential; id: string }) {
  const account = useApi<AccountDetail>(credential, `/admin/v1/accounts/${id}`);
  const keys = useApi<{
    keys: { id: string; name: string; prefix: string; status: string; scopes: string[] }[];
  }>(credential, `/admin/v1/accounts/${id}/keys`);
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const action = useAction();
  const move = (kind: "grants" | "adjustments") =>
    action.run(async () => {
      await apiFetch(`/admin/v1/accounts/${id}/${kind}`, {
        credential,
        body: {
          amount: Number(amount),
          reason: reason || (kind === "grants" ? "console grant" : "console adjustment"),
        },
      });
      setAmount("");
      await account.reload();
    });
  return (
    <>
      <Section title={`Account ${id}`}>
        <Loaded state={account}>
          {(a) => (
            <dl class="figures">
              <dt>Name</dt>
              <dd>{a.name}</dd>
              <dt>Available</dt>
              <dd class="num" data-testid="account-available">
                {a.available}
              </dd>
              <dt>Held</dt>
              <dd class="num">{a.held}</dd>
              <dt>Granted in all</dt>
              <dd class="num">{a.total_granted}</dd>
              <dt>Active tasks</dt>
              <dd class="num">{a.active_tasks}</dd>
              <dt>Subscription</dt>
              <dd>
                {a.subscription
                  ? `${a.subscription.plan_id ?? ""} ${a.subscription.state ?? ""}`
                  : "none"}
              </dd>
            </dl>
          )}
        </Loaded>
        <form class="create" onSubmit={(e) => e.preventDefault()}>
          <label>
            Credits
            <input
              type="number"
              value={amount}
              onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
            />
          </label>
          <label>
            Reason
            <input
              value={reason}
              onInput={(e) => setReason((e.target as HTMLInputElement).value)}
            />
          </label>
          <button type="button" disabled={action.busy || !amount} onClick={() => move("grants")}>
            Grant
          </button>
          <button
            type="button"
            disabled={action.busy || !amount}
            onClick={() => move("adjustments")}
          >
            Adjust
          </button>
          <ErrorNote error={action.error} />
        </form>
      </Section>
      <Section title="Keys">
        <Loaded state={keys} empty={(d) => d.keys.length === 0} emptyText="No keys.">
          {(d) => (
            <ul>
              {d.keys.map((k) => (
                <li key={k.id}>
                  {k.name} <code>{k.prefix}…</code> {k.status} ({k.scopes.join(", ")})
                </li>
              ))}
            </ul>
          )}
        </Loaded>
      </Section>
    </>
  );
}

interface ProviderHealth {
  id: string;
  models: string[];
  circuit: string;
  paused_until: string | null;
  in_flight: number;
  attempts: number;
  error_rate: number;
  latency_ms: { p50: number | null; p95: number | null };
  traffic_share: number;
  limits: { requests_per_minute: number | null; max_concurrent: number | null };
}
interface QueueDepth {
  name: string;
  waiting: number;
  prioritized: number;
  active: number;
  delayed: number;
  failed: number;
  oldest_waiting_age_ms: number | null;
}

/** Re-reads `path` every few seconds; the table keeps its size, so nothing moves. */
function useLive<T>(credential: Credential, path: string, everyMs = 3000) {
  const state = useApi<T>(credential, path);
  useEffect(() => {
    const timer = setInterval(() => void state.reload(), everyMs);
    return () => clearInterval(timer);
  }, [state.reload, everyMs]);
  return state;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function ProvidersPage({ credential }: { credential: Credential }) {
  const providers = useLive<ProviderHealth[]>(credential, "/admin/v1/providers");
  const queues = useLive<{ queues: QueueDepth[]; board_url: string }>(
    credential,
    "/admin/v1/queues",
  );
  const board = useAction();
  return (
    <>
      <Section title="Providers (last 15 minutes)">
        <Loaded state={providers} empty={(d) => d.length === 0}>
          {(d) => (
            <div class="scroll">
              <table class="fixed">
                <thead>
                  <tr>
                    <th>Provider</th>
                    <th>Circuit</th>
                    <th class="num">Attempts</th>
                    <th class="num">Errors</th>
                    <th class="num">p50 / p95</th>
                    <th class="num">Share</th>
                    <th class="num">In flight</th>
                    <th>Limits</th>
                  </tr>
                </thead>
                <tbody>
                  {d.map((p) => (
                    <tr key={p.id} data-provider={p.id}>
                      <td>{p.id}</td>
                      <td>
                        <span class={`circuit circuit-${p.circuit}`}>{p.circuit}</span>
                        {p.paused_until
                          ? ` paused until ${new Date(p.paused_until).toLocaleTimeString()}`
                          : ""}
                      </td>
                      <td class="num">{p.attempts}</td>
                      <td class="num">{pct(p.error_rate)}</td>
                      <td class="num">
                        {p.latency_ms.p50 ?? "—"} / {p.latency_ms.p95 ?? "—"} ms
                      </td>
                      <td class="num">{pct(p.traffic_share)}</td>
                      <td class="num">{p.in_flight}</td>
                      <td>
                        {p.limits.requests_per_minute ? `${p.limits.requests_per_minute}/min ` : ""}
                        {p.limits.max_concurrent ? `${p.limits.max_concurrent} at once` : ""}
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
        title="Queues"
        actions={
          <button
            type="button"
            onClick={() =>
              board.run(async () => {
                // The board is a page of its own: the session cookie lets a new tab in.
                await apiFetch("/admin/v1/session", { credential, method: "POST" });
                window.open(queues.data?.board_url ?? "/admin/queues", "_blank", "noopener");
              })
            }
          >
            Open queue board
          </button>
        }
      >
        <ErrorNote error={board.error} />
        <Loaded state={queues}>
          {(d) => (
            <div class="scroll">
              <table class="fixed">
                <thead>
                  <tr>
                    <th>Queue</th>
                    <th class="num">Waiting</th>
                    <th class="num">Prioritized</th>
                    <th class="num">Active</th>
                    <th class="num">Delayed</th>
                    <th class="num">Failed</th>
                    <th class="num">Oldest waiting</th>
                  </tr>
                </thead>
                <tbody>
                  {d.queues.map((q) => (
                    <tr key={q.name} data-queue={q.name}>
                      <td>{q.name}</td>
                      <td class="num">{q.waiting}</td>
                      <td class="num">{q.prioritized}</td>
                      <td class="num">{q.active}</td>
                      <td class="num">{q.delayed}</td>
                      <td class="num">{q.failed}</td>
                      <td class="num">
                        {q.oldest_waiting_age_ms === null
                          ? "—"
                          : `${(q.oldest_waiting_age_ms / 1000).toFixed(1)} s`}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Loaded>
      </Section>
    </>
  );
}

interface UsageRow {
  provider?: string;
  model?: string;
  day?: string;
  tasks: number;
  charged_usd: number;
  upstream_usd: number;
  margin_usd: number;
}

export function UsagePage({ credential }: { credential: Credential }) {
  const byProvider = useApi<{ usage: UsageRow[] }>(
    credential,
    "/admin/v1/usage?group_by=provider,model",
  );
  const byDay = useApi<{ usage: UsageRow[] }>(credential, "/admin/v1/usage?group_by=day,provider");
  const books = useApi<{ ok?: boolean; problems?: unknown[] }>(
    credential,
    "/admin/v1/ledger/check",
  );
  const usd = (x: number) => `$${x.toFixed(2)}`;
  return (
    <>
      <Section title="Margin per day and provider (USD)">
        <Loaded state={byDay}>
          {(d) => (
            <DayChart
              unit="USD margin"
              rows={d.usage.map((r) => ({
                day: r.day ?? "",
                series: r.provider ?? "none",
                value: r.margin_usd,
              }))}
            />
          )}
        </Loaded>
      </Section>
      <Section title="Usage and margin per provider and model">
        <Loaded state={byProvider} empty={(d) => d.usage.length === 0} emptyText="No usage yet.">
          {(d) => (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Provider</th>
                    <th>Model</th>
                    <th class="num">Tasks</th>
                    <th class="num">Charged</th>
                    <th class="num">Upstream</th>
                    <th class="num">Margin</th>
                  </tr>
                </thead>
                <tbody>
                  {d.usage.map((r) => (
                    <tr key={`${r.provider}:${r.model}`} data-usage={`${r.provider}:${r.model}`}>
                      <td>{r.provider ?? "—"}</td>
                      <td>{r.model}</td>
                      <td class="num">{r.tasks}</td>
                      <td class="num">{usd(r.charged_usd)}</td>
                      <td class="num">{usd(r.upstream_usd)}</td>
                      <td class="num">{usd(r.margin_usd)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Loaded>
      </Section>
      <Section title="Books check">
        <Loaded state={books}>
          {(b) => <pre class="books">{JSON.stringify(b, null, 2)}</pre>}
        </Loaded>
      </Section>
    </>
  );
}

export function PlansPage({ credential }: { credential: Credential }) {
  const plans = useApi<{
    plans: { id: string; name: string; monthly_credits?: number; price_usd?: number }[];
  }>(credential, "/admin/v1/plans");
  return (
    <Section title="Plans">
      <Loaded
        state={plans}
        empty={(d) => d.plans.length === 0}
        emptyText="No plans yet (create them with the admin API or the CLI)."
      >
        {(d) => (
          <ul>
            {d.plans.map((p) => (
              <li key={p.id}>
                {p.name} ({p.id}){" "}
                {p.monthly_credits !== undefined ? `— ${p.monthly_credits} credits a month` : ""}
              </li>
            ))}
          </ul>
        )}
      </Loaded>
    </Section>
  );
}

const sections = [
  ["#/", "Accounts"],
  ["#/op/providers", "Providers & queues"],
  ["#/op/usage", "Usage & margin"],
  ["#/op/plans", "Plans"],
] as const;

/** The operator's console: `route` is the location hash without its `#`. */
export function OperatorApp({ credential, route }: { credential: Credential; route: string }) {
  const path = route.split("?")[0] ?? "/";
  let page: preact.JSX.Element;
  if (path.startsWith("/op/account/"))
    page = <AccountPage credential={credential} id={path.slice(12)} />;
  else if (path === "/op/providers") page = <ProvidersPage credential={credential} />;
  else if (path === "/op/usage") page = <UsagePage credential={credential} />;
  else if (path === "/op/plans") page = <PlansPage credential={credential} />;
  else page = <AccountsPage credential={credential} />;
  return (
    <>
      <Nav items={sections} route={route} />
      <main>{page}</main>
    </>
  );
}
