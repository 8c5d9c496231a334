import { useState } from "preact/hooks";
import { apiFetch, type Credential, when } from "../api";
import { ErrorNote, Loaded, Section, useAction, useApi } from "../ui/shared";
import { count } from "./format";
import type { Account, ApiKey, CreditMovement, Plan, Subscription } from "./types";

/** One account: its credits (grant, adjust), state, subscriptions and keys. */
export function AccountPage({ credential, id }: { credential: Credential; id: string }) {
  const account = useApi<Account>(credential, `/admin/v1/accounts/${id}`);
  return (
    <>
      <Section title={account.data ? `Account: ${account.data.name}` : "Account"}>
        <p class="muted">
          <a href="#/">← All accounts</a> · <code>{id}</code>
        </p>
        <Loaded state={account}>
          {(a) => <Figures account={a} credential={credential} reload={account.reload} />}
        </Loaded>
      </Section>
      {account.data && (
        <>
          <Credits credential={credential} id={id} reload={account.reload} />
          <Subscriptions credential={credential} id={id} reload={account.reload} />
          <Keys credential={credential} id={id} />
        </>
      )}
    </>
  );
}

function Figures(props: { account: Account; credential: Credential; reload: () => Promise<void> }) {
  const a = props.account;
  const toggle = useAction();
  const verb = a.disabled_at === null ? "disable" : "enable";
  return (
    <>
      <dl class="figures op-figures">
        <dt>Available</dt>
        <dd class="num" data-testid="account-available">
          {count(a.available)}
        </dd>
        <dt>Balance</dt>
        <dd class="num">{count(a.balance)}</dd>
        <dt>Held for running tasks</dt>
        <dd class="num">{count(a.held)}</dd>
        <dt>Granted in all</dt>
        <dd class="num">{count(a.total_granted)}</dd>
        <dt>Active tasks</dt>
        <dd class="num">
          {count(a.active_tasks)}
          {a.max_active_tasks === null ? " (no limit)" : ` of at most ${count(a.max_active_tasks)}`}
        </dd>
        <dt>VIP</dt>
        <dd>{a.is_vip ? "yes" : "no"}</dd>
        <dt>State</dt>
        <dd>{a.disabled_at === null ? "enabled" : `disabled since ${when(a.disabled_at)}`}</dd>
        <dt>Created</dt>
        <dd>{when(a.created_at)}</dd>
      </dl>
      <p class="op-actions">
        <button
          type="button"
          class={verb === "disable" ? "danger" : undefined}
          disabled={toggle.busy}
          onClick={() =>
            toggle.run(async () => {
              if (verb === "disable" && !confirm(`Disable ${a.name}? Its keys stop working.`)) {
                return;
              }
              await apiFetch(`/admin/v1/accounts/${a.id}/${verb}`, {
                credential: props.credential,
                method: "POST",
              });
              await props.reload();
            })
          }
        >
          {verb === "disable" ? "Disable account" : "Enable account"}
        </button>
      </p>
      <ErrorNote error={toggle.error} />
    </>
  );
}

/** A grant adds credits; an adjustment adds or removes them (never below what is available). */
function Credits(props: { credential: Credential; id: string; reload: () => Promise<void> }) {
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const move = (kind: "grants" | "adjustments") =>
    action.run(async () => {
      setDone(null);
      const moved = await apiFetch<CreditMovement>(`/admin/v1/accounts/${props.id}/${kind}`, {
        credential: props.credential,
        body: { amount: Number(amount), reason: reason.trim() || `console ${kind.slice(0, -1)}` },
      });
      setAmount("");
      setReason("");
      setDone(
        `${kind === "grants" ? "Granted" : "Adjusted by"} ${count(moved.amount)} credits; ${count(moved.available)} available now.`,
      );
      await props.reload();
    });
  const n = Number(amount);
  const valid = amount !== "" && Number.isInteger(n) && n !== 0;
  return (
    <Section title="Credits">
      <form class="create" onSubmit={(e) => e.preventDefault()}>
        <label>
          Amount (credits)
          <input
            type="number"
            step={1}
            inputMode="numeric"
            value={amount}
            onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
          />
        </label>
        <label class="wide">
          Reason
          <input
            maxLength={500}
            placeholder="recorded in the ledger"
            value={reason}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          />
        </label>
        <div class="op-actions">
          <button
            type="button"
            disabled={action.busy || !valid || n < 0}
            onClick={() => move("grants")}
          >
            Grant
          </button>
          <button
            type="button"
            disabled={action.busy || !valid}
            onClick={() => move("adjustments")}
          >
            Adjust
          </button>
        </div>
        <p class="muted wide op-hint">
          Grant adds credits. Adjust takes a signed amount (−50 removes 50, never below what is
          available).
        </p>
        <p class="wide op-done" role="status">
          {done}
        </p>
        <ErrorNote error={action.error} />
      </form>
    </Section>
  );
}

const activeSubscription = (s: Subscription) =>
  s.canceled_at === null && s.ends_at * 1000 > Date.now();

function Subscriptions(props: { credential: Credential; id: string; reload: () => Promise<void> }) {
  const list = useApi<{ subscriptions: Subscription[] }>(
    props.credential,
    `/admin/v1/accounts/${props.id}/subscriptions`,
  );
  const plans = useApi<{ plans: Plan[] }>(props.credential, "/admin/v1/plans");
  const [plan, setPlan] = useState("");
  const [months, setMonths] = useState("1");
  const action = useAction();
  const after = async () => {
    await list.reload();
    await props.reload();
  };
  return (
    <Section title="Subscriptions">
      <Loaded
        state={list}
        empty={(d) => d.subscriptions.length === 0}
        emptyText="No subscriptions."
      >
        {(d) => (
          <table class="op-table">
            <thead>
              <tr>
                <th scope="col">Plan</th>
                <th scope="col" class="num">
                  Credits a month
                </th>
                <th scope="col">Starts</th>
                <th scope="col">Ends</th>
                <th scope="col">
                  <span class="op-sr">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {d.subscriptions.map((s) => (
                <tr key={s.id}>
                  <th scope="row" data-label="Plan">
                    {s.plan}
                  </th>
                  <td class="num" data-label="Credits a month">
                    {count(s.monthly_credits)}
                  </td>
                  <td data-label="Starts">{when(s.starts_at)}</td>
                  <td data-label="Ends">
                    {s.canceled_at === null ? when(s.ends_at) : `canceled ${when(s.canceled_at)}`}
                  </td>
                  <td data-label="">
                    {activeSubscription(s) && (
                      <button
                        type="button"
                        class="danger"
                        disabled={action.busy}
                        onClick={() =>
                          action.run(async () => {
                            if (!confirm(`Cancel the ${s.plan} subscription now?`)) return;
                            await apiFetch(
                              `/admin/v1/accounts/${props.id}/subscriptions/${s.id}/cancel`,
                              { credential: props.credential, method: "POST" },
                            );
                            await after();
                          })
                        }
                      >
                        Cancel
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
      {plans.data && plans.data.plans.length === 0 ? (
        <p class="empty">
          No plans to subscribe to: <a href="#/op/plans">create one</a>.
        </p>
      ) : (
        <form
          class="create op-below"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              await apiFetch(`/admin/v1/accounts/${props.id}/subscriptions`, {
                credential: props.credential,
                body: { plan, months: Number(months) },
              });
              await after();
            });
          }}
        >
          <label>
            Plan
            <select
              required
              value={plan}
              onChange={(e) => setPlan((e.target as HTMLSelectElement).value)}
            >
              <option value="">Choose…</option>
              {plans.data?.plans.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({count(p.monthly_credits)}/month)
                </option>
              ))}
            </select>
          </label>
          <label>
            Months
            <input
              required
              type="number"
              min={1}
              max={1200}
              step={1}
              value={months}
              onInput={(e) => setMonths((e.target as HTMLInputElement).value)}
            />
          </label>
          <button type="submit" disabled={action.busy}>
            Start subscription
          </button>
          <ErrorNote error={action.error ?? plans.error} />
        </form>
      )}
    </Section>
  );
}

function Keys(props: { credential: Credential; id: string }) {
  const keys = useApi<{ keys: ApiKey[] }>(props.credential, `/admin/v1/accounts/${props.id}/keys`);
  const action = useAction();
  return (
    <Section title="API keys">
      <ErrorNote error={action.error} />
      <Loaded state={keys} empty={(d) => d.keys.length === 0} emptyText="No API keys.">
        {(d) => (
          <table class="op-table">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Scopes</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="op-sr">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {d.keys.map((k) => (
                <tr key={k.id}>
                  <th scope="row" data-label="Key">
                    {k.name ?? "unnamed"} <code>{k.prefix}…</code>
                  </th>
                  <td data-label="Scopes">{k.scopes.join(", ")}</td>
                  <td data-label="Status">{k.status}</td>
                  <td data-label="Created">{when(k.created_at)}</td>
                  <td data-label="">
                    {k.status === "active" && (
                      <button
                        type="button"
                        class="danger"
                        disabled={action.busy}
                        onClick={() =>
                          action.run(async () => {
                            if (!confirm(`Revoke ${k.prefix}…? Requests with it fail at once.`)) {
                              return;
                            }
                            await apiFetch(`/admin/v1/accounts/${props.id}/keys/${k.id}/revoke`, {
                              credential: props.credential,
                              method: "POST",
                            });
                            await keys.reload();
                          })
                        }
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
    </Section>
  );
}
