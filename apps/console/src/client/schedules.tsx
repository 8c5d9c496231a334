import { useState } from "preact/hooks";
import { apiFetch, type Credential } from "../api";
import { ErrorNote, Loaded, Section, useAction, useApi } from "../ui/shared";
import type { Model } from "./create";

interface Schedule {
  id: string;
  cron: string;
  timezone: string;
  state: string;
  next_run_at: string | null;
  last_run_for: string | null;
}
interface Run {
  id: string;
  scheduled_for: string;
  state: string;
  batch_id: string | null;
  created_at: number;
}

function Runs({ credential, id }: { credential: Credential; id: string }) {
  const runs = useApi<{ runs: Run[] }>(credential, `/v1/schedules/${id}/runs`);
  return (
    <Loaded state={runs} empty={(d) => d.runs.length === 0} emptyText="No runs yet.">
      {(d) => (
        <ul class="runs">
          {d.runs.map((r) => (
            <li key={r.id}>
              {r.scheduled_for}: {r.state}{" "}
              {r.batch_id && <a href={`#/?batch=${r.batch_id}`}>{r.batch_id}</a>}
            </li>
          ))}
        </ul>
      )}
    </Loaded>
  );
}

export function SchedulesPage({ credential }: { credential: Credential }) {
  const list = useApi<{ schedules: Schedule[] }>(credential, "/v1/schedules");
  const models = useApi<{ models: Model[] }>(credential, "/v1/models");
  const [form, setForm] = useState({
    cron: "0 9 * * *",
    timezone: "UTC",
    model: "nano-banana-2",
    prompt: "",
  });
  const [open, setOpen] = useState<string | null>(null);
  const action = useAction();
  const set = (name: keyof typeof form) => (e: Event) =>
    setForm({ ...form, [name]: (e.target as HTMLInputElement).value });
  const setState = (id: string, verb: "pause" | "resume") =>
    action.run(async () => {
      await apiFetch(`/v1/schedules/${id}/${verb}`, { credential, method: "POST" });
      await list.reload();
    });
  return (
    <>
      <Section title="New schedule">
        <form
          class="create"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              await apiFetch("/v1/schedules", {
                credential,
                body: {
                  cron: form.cron,
                  timezone: form.timezone,
                  template: { requests: [{ model: form.model, input: { prompt: form.prompt } }] },
                },
              });
              await list.reload();
            });
          }}
        >
          <label>
            Cron
            <input value={form.cron} onInput={set("cron")} />
          </label>
          <label>
            Time zone
            <input value={form.timezone} onInput={set("timezone")} />
          </label>
          <label>
            Model
            <select value={form.model} onChange={set("model")}>
              {(models.data?.models ?? []).map((m) => (
                <option key={m.id} value={m.id}>
                  {m.id} ({m.kind})
                </option>
              ))}
            </select>
          </label>
          <label class="wide">
            Prompt
            <input value={form.prompt} onInput={set("prompt")} required />
          </label>
          <button type="submit" disabled={action.busy}>
            Create schedule
          </button>
          <ErrorNote error={action.error} />
        </form>
      </Section>
      <Section title="Schedules">
        <Loaded state={list} empty={(d) => d.schedules.length === 0} emptyText="No schedules yet.">
          {(d) => (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Schedule</th>
                    <th>Cron</th>
                    <th>State</th>
                    <th>Next run</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {d.schedules.map((s) => (
                    <>
                      <tr key={s.id}>
                        <td>{s.id}</td>
                        <td>
                          <code>{s.cron}</code> {s.timezone}
                        </td>
                        <td>{s.state}</td>
                        <td>{s.next_run_at ? new Date(s.next_run_at).toLocaleString() : "—"}</td>
                        <td class="actions">
                          {s.state === "paused" ? (
                            <button type="button" onClick={() => setState(s.id, "resume")}>
                              Resume
                            </button>
                          ) : (
                            <button type="button" onClick={() => setState(s.id, "pause")}>
                              Pause
                            </button>
                          )}
                          <button
                            type="button"
                            onClick={() => setOpen(open === s.id ? null : s.id)}
                          >
                            Runs
                          </button>
                        </td>
                      </tr>
                      {open === s.id && (
                        <tr key={`${s.id}-runs`}>
                          <td colSpan={5}>
                            <Runs credential={credential} id={s.id} />
                          </td>
                        </tr>
                      )}
                    </>
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
