import { useState } from "preact/hooks";
import { apiFetch, type Credential, when } from "../api";
import { ErrorNote, Loaded, Section, useAction, useApi } from "../ui/shared";
import { count } from "./format";
import type { Plan } from "./types";

/** Plans: the list, and a form to add one (a plan's credits are granted each month it runs). */
export function PlansPage({ credential }: { credential: Credential }) {
  const plans = useApi<{ plans: Plan[] }>(credential, "/admin/v1/plans");
  const [form, setForm] = useState({ name: "", monthly: "" });
  const action = useAction();
  return (
    <>
      <Section title="New plan">
        <form
          class="create"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              await apiFetch("/admin/v1/plans", {
                credential,
                body: { name: form.name, monthly_credits: Number(form.monthly) },
              });
              setForm({ name: "", monthly: "" });
              await plans.reload();
            });
          }}
        >
          <label>
            Plan name
            <input
              required
              maxLength={100}
              value={form.name}
              onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })}
            />
          </label>
          <label>
            Credits a month
            <input
              required
              type="number"
              min={0}
              step={1}
              inputMode="numeric"
              value={form.monthly}
              onInput={(e) => setForm({ ...form, monthly: (e.target as HTMLInputElement).value })}
            />
          </label>
          <button type="submit" disabled={action.busy}>
            Create plan
          </button>
          <ErrorNote error={action.error} />
        </form>
      </Section>
      <Section title="Plans">
        <Loaded
          state={plans}
          empty={(d) => d.plans.length === 0}
          emptyText="No plans yet: create the first above."
        >
          {(d) => (
            <table class="op-table">
              <thead>
                <tr>
                  <th scope="col">Plan</th>
                  <th scope="col">Id</th>
                  <th scope="col" class="num">
                    Credits a month
                  </th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {d.plans.map((p) => (
                  <tr key={p.id} data-plan={p.name}>
                    <th scope="row" data-label="Plan">
                      {p.name}
                    </th>
                    <td data-label="Id">
                      <code>{p.id}</code>
                    </td>
                    <td class="num" data-label="Credits a month">
                      {count(p.monthly_credits)}
                    </td>
                    <td data-label="Created">{when(p.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Loaded>
      </Section>
    </>
  );
}
