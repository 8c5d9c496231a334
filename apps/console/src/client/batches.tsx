import { useEffect, useState } from "preact/hooks";
import { ApiError, apiFetch, type Credential, readSse, when } from "../api";
import { ErrorNote, Loaded, Section, useAction, useApi } from "../ui/shared";
import type { Model } from "./create";

/** A batch as `GET /v1/batches` lists it (its row only). */
interface BatchRow {
  id: string;
  state: string;
  total: number;
  created_at: number;
  ended_at: number | null;
}
/** A batch as `GET /v1/batches/{id}` and its event stream show it. */
export interface Batch extends BatchRow {
  active: number;
  succeeded: number;
  failed: number;
  /** 0..1: the share of items that ended. */
  progress: number;
  estimated_end_at: number | null;
  rejected?: { index: number; message: string }[];
}

/**
 * One batch, live while it runs: its event stream (which sends the state at once), or, where
 * the stream cannot be had, a re-read every two seconds. An ended batch is read once.
 */
function useLiveBatch(credential: Credential, row: BatchRow): Batch | null {
  const [batch, setBatch] = useState<Batch | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    const read = () => apiFetch<Batch>(`/v1/batches/${row.id}`, { credential }).then(setBatch);
    const poll = async () => {
      for (;;) {
        const next = await apiFetch<Batch>(`/v1/batches/${row.id}`, { credential });
        if (abort.signal.aborted) return;
        setBatch(next);
        if (next.state !== "running") return;
        await new Promise((r) => setTimeout(r, 2000));
      }
    };
    const follow =
      row.state === "running"
        ? readSse(
            `/v1/batches/${row.id}/events`,
            credential,
            (_e, data) => setBatch(data as Batch),
            abort.signal,
          )
            // A stream cut short (or refused) is followed by reading.
            .then(read, (error) =>
              error instanceof ApiError && error.status === 401 ? undefined : poll(),
            )
        : read();
    follow.catch(() => {});
    return () => abort.abort();
  }, [credential, row.id, row.state]);
  return batch;
}

function BatchLine({ credential, row }: { credential: Credential; row: BatchRow }) {
  const batch = useLiveBatch(credential, row);
  const done = batch ? Math.round(batch.progress * 100) : null;
  const state = batch?.state ?? row.state;
  return (
    <tr data-batch={row.id}>
      <td>
        <a href={`#/?batch=${row.id}`}>{row.id}</a>
      </td>
      <td>{state}</td>
      <td>
        <span class="progress-cell">
          <progress max={100} value={done ?? 0} aria-label={`Progress of ${row.id}`} />
          <span class="num pct">{done === null ? "" : `${done}%`}</span>
        </span>
      </td>
      <td class="num">
        {batch ? `${batch.succeeded} ok, ${batch.failed} failed` : ""} / {row.total}
      </td>
      <td>{when(row.created_at)}</td>
      <td class="actions">
        <button type="button" onClick={() => download(credential, row.id, "jsonl")}>
          JSONL
        </button>
        <button type="button" onClick={() => download(credential, row.id, "csv")}>
          CSV
        </button>
      </td>
    </tr>
  );
}

/** The results file, fetched with the credential (a plain link could not send it) and saved. */
async function download(credential: Credential, id: string, format: "jsonl" | "csv") {
  const res = await fetch(`/v1/batches/${id}/results?format=${format}`, {
    headers: { authorization: `Bearer ${credential.token}` },
  });
  if (!res.ok) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await res.blob());
  link.download = `${id}.${format}`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

/** What the form sends: pasted JSON as it is, else each prompt line `copies` times. */
function requestsOf(form: {
  model: string;
  prompts: string;
  copies: string;
  json: string;
}): unknown {
  if (form.json.trim()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(form.json);
    } catch {
      throw new Error("The pasted JSON does not parse.");
    }
    return Array.isArray(parsed) ? { requests: parsed } : parsed;
  }
  const prompts = form.prompts
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const copies = Math.max(1, Number(form.copies) || 1);
  return {
    requests: prompts.flatMap((prompt) =>
      Array.from({ length: copies }, () => ({ model: form.model, input: { prompt } })),
    ),
  };
}

/** The price of what the form would send: each distinct request priced once by `/v1/cost`. */
function useBatchPrice(credential: Credential, body: () => unknown): string {
  const [price, setPrice] = useState("");
  let requests: { model?: unknown; input?: unknown }[] = [];
  let problem = "";
  try {
    const value = body() as { requests?: unknown };
    requests = Array.isArray(value?.requests) ? (value.requests as typeof requests) : [];
  } catch (error) {
    problem = (error as Error).message;
  }
  const key = problem || JSON.stringify(requests);
  useEffect(() => {
    if (problem || requests.length === 0) {
      setPrice(problem);
      return;
    }
    const distinct = new Map<string, number>();
    for (const r of requests) {
      const one = JSON.stringify({ model: r.model, input: r.input });
      distinct.set(one, (distinct.get(one) ?? 0) + 1);
    }
    if (distinct.size > 50) {
      setPrice(`${requests.length} items`);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      Promise.all(
        [...distinct].map(([one, times]) =>
          apiFetch<{ credits: number }>("/v1/cost", { credential, body: JSON.parse(one) }).then(
            (cost) => cost.credits * times,
          ),
        ),
      ).then(
        (costs) =>
          current &&
          setPrice(`${requests.length} items · ${costs.reduce((a, b) => a + b, 0)} credits`),
        (error: Error) => current && setPrice(`${requests.length} items · ${error.message}`),
      );
    }, 250);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [credential, key]);
  return price;
}

export function BatchesPage({ credential }: { credential: Credential }) {
  const list = useApi<{ batches: BatchRow[]; next_cursor: string | null }>(
    credential,
    "/v1/batches?limit=50",
  );
  const models = useApi<{ models: Model[] }>(credential, "/v1/models");
  const [form, setForm] = useState({ model: "", prompts: "", copies: "1", json: "" });
  const [created, setCreated] = useState<Batch | null>(null);
  const action = useAction();
  const set = (name: keyof typeof form) => (e: Event) =>
    setForm({ ...form, [name]: (e.target as HTMLInputElement).value });
  const model = form.model || models.data?.models[0]?.id || "";
  const price = useBatchPrice(credential, () => requestsOf({ ...form, model }));
  return (
    <>
      <Section title="New batch">
        <form
          class="create"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              const batch = await apiFetch<Batch>("/v1/batches", {
                credential,
                body: requestsOf({ ...form, model }),
              });
              setCreated(batch);
              setForm({ ...form, prompts: "", json: "" });
              await list.reload();
            });
          }}
        >
          <label>
            Model
            <select value={model} onChange={set("model")}>
              {models.data?.models.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.id} ({m.kind})
                </option>
              ))}
            </select>
          </label>
          <label>
            Copies of each prompt
            <input type="number" min={1} max={1000} value={form.copies} onInput={set("copies")} />
          </label>
          <label class="wide">
            Prompts, one per line
            <textarea name="prompts" rows={4} value={form.prompts} onInput={set("prompts")} />
          </label>
          <details class="wide">
            <summary>Or paste the batch as JSON</summary>
            <label>
              <span>
                <code>{'{"requests": [{"model": "…", "input": {"prompt": "…"}}]}'}</code> or just
                the array
              </span>
              <textarea name="json" rows={5} value={form.json} onInput={set("json")} />
            </label>
          </details>
          <p class="price" aria-live="polite">
            {price || "Price: enter prompts"}
          </p>
          <button
            type="submit"
            disabled={action.busy || !(form.prompts.trim() || form.json.trim())}
          >
            Submit batch
          </button>
          <ErrorNote error={action.error} />
        </form>
        {created?.rejected && created.rejected.length > 0 && (
          <p class="error" role="status">
            {created.rejected.length} of the requests were rejected: {created.rejected[0]?.message}
          </p>
        )}
      </Section>
      <Section
        title="Batches"
        actions={
          <button type="button" onClick={() => list.reload()}>
            Refresh
          </button>
        }
      >
        <Loaded
          state={list}
          empty={(d) => d.batches.length === 0}
          emptyText="No batches yet. Submit one above."
        >
          {(data) => (
            <div class="scroll">
              <table class="batches">
                <thead>
                  <tr>
                    <th>Batch</th>
                    <th>State</th>
                    <th>Progress</th>
                    <th class="num">Items</th>
                    <th>Created</th>
                    <th>Results</th>
                  </tr>
                </thead>
                <tbody>
                  {data.batches.map((row) => (
                    <BatchLine key={row.id} credential={credential} row={row} />
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
