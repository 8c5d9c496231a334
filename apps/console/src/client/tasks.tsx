import { useEffect, useState } from "preact/hooks";
import { apiFetch, type Credential, readSse, when } from "../api";
import { ErrorNote, Loaded, Section, useAction, useApi } from "../ui/shared";
import type { Model } from "./create";

/** A task as `GET /v1/tasks/{id}` (and each item of `GET /v1/tasks`) shows it. */
export interface TaskView {
  id: string;
  status: string;
  model: string;
  created_at: number;
  completed_at?: number;
  output?: { urls?: string[] };
  error?: { code?: string; message?: string };
}

const VIDEO_FILE = /\.(mp4|webm|mov|m4v)(\?|#|$)/i;

/**
 * A result in a box of fixed shape, so a result arriving later does not move the page: the
 * image, a playable video (by the model's kind or the file's name), or the task's status.
 */
export function Media({ task, kind }: { task: TaskView; kind?: Model["kind"] }) {
  const url = task.output?.urls?.[0];
  const more = (task.output?.urls?.length ?? 0) - 1;
  // A result URL can stop answering (an upstream's files expire): say so in the same box.
  const [gone, setGone] = useState(false);
  return (
    <div class="media">
      {url && gone ? (
        <span class="muted">Result no longer available</span>
      ) : url ? (
        kind === "video" || VIDEO_FILE.test(url) ? (
          // biome-ignore lint/a11y/useMediaCaption: generated videos have no captions to offer
          <video src={url} controls preload="metadata" onError={() => setGone(true)} />
        ) : (
          <img
            src={url}
            alt={`Result of ${task.model}`}
            loading="lazy"
            onError={() => setGone(true)}
          />
        )
      ) : (
        <span class={`status status-${task.status}`}>{task.status}</span>
      )}
      {more > 0 && <span class="more">+{more}</span>}
    </div>
  );
}

/** The native statuses, which `GET /v1/tasks?status=` takes (it takes Ripen's finer ones too). */
const STATUSES = ["pending", "processing", "completed", "failed", "canceled", "expired"];

const kindsOf = (models: Model[] | undefined) =>
  new Map((models ?? []).map((m) => [m.id, m.kind] as const));

/** The doors tasks can come through: every door some model is priced at. */
const doorsOf = (models: Model[] | undefined) =>
  [...new Set((models ?? []).flatMap((m) => Object.keys(m.prices ?? {})))].sort();

interface Filters {
  status: string;
  model: string;
  door: string;
  batch_id: string;
  from: string;
  to: string;
}

/** `GET /v1/tasks`' query for the filters (dates are local days: from its start, to its end). */
function listQuery(filters: Filters, cursor: string | null): string {
  const query = new URLSearchParams({ limit: "24" });
  if (filters.status) query.set("status", filters.status);
  if (filters.model) query.set("model", filters.model);
  if (filters.door) query.set("door", filters.door);
  if (filters.batch_id.trim()) query.set("batch_id", filters.batch_id.trim());
  const day = (date: string, plusDays: number) => {
    const start = new Date(`${date}T00:00:00`);
    start.setDate(start.getDate() + plusDays);
    return String(Math.floor(start.getTime() / 1000));
  };
  if (filters.from) query.set("created_after", day(filters.from, 0));
  if (filters.to) query.set("created_before", day(filters.to, 1));
  if (cursor) query.set("cursor", cursor);
  return query.toString();
}

/** The account's tasks as tiles; `query` is the route's own (`?batch=batch_…` opens one batch's). */
export function Gallery({
  credential,
  query: routeQuery,
}: {
  credential: Credential;
  query: string;
}) {
  const models = useApi<{ models: Model[] }>(credential, "/v1/models");
  const [filters, setFilters] = useState<Filters>({
    status: "",
    model: "",
    door: "",
    batch_id: new URLSearchParams(routeQuery).get("batch") ?? "",
    from: "",
    to: "",
  });
  // The cursors of the pages before this one, so "Newer" goes back without a reverse cursor.
  const [pages, setPages] = useState<(string | null)[]>([null]);
  const cursor = pages[pages.length - 1] ?? null;
  const list = useApi<{ tasks: TaskView[]; next_cursor: string | null }>(
    credential,
    `/v1/tasks?${listQuery(filters, cursor)}`,
  );
  const set = (name: keyof Filters) => (e: Event) => {
    setPages([null]);
    setFilters({ ...filters, [name]: (e.target as HTMLInputElement).value });
  };
  const kinds = kindsOf(models.data?.models);
  const option = (value: string) => (
    <option key={value} value={value}>
      {value}
    </option>
  );
  return (
    <Section title="Generations">
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Status
          <select name="status" value={filters.status} onChange={set("status")}>
            <option value="">any</option>
            {STATUSES.map(option)}
          </select>
        </label>
        <label>
          Model
          <select name="model" value={filters.model} onChange={set("model")}>
            <option value="">any</option>
            {models.data?.models.map((m) => option(m.id))}
          </select>
        </label>
        <label>
          Door
          <select name="door" value={filters.door} onChange={set("door")}>
            <option value="">any</option>
            {doorsOf(models.data?.models).map(option)}
          </select>
        </label>
        <label>
          Batch
          <input
            name="batch_id"
            value={filters.batch_id}
            onChange={set("batch_id")}
            placeholder="batch_…"
          />
        </label>
        <label>
          From
          <input name="from" type="date" value={filters.from} onChange={set("from")} />
        </label>
        <label>
          To
          <input name="to" type="date" value={filters.to} onChange={set("to")} />
        </label>
      </form>
      <Loaded
        state={list}
        empty={(d) => d.tasks.length === 0}
        emptyText={
          pages.length > 1 || Object.values(filters).some(Boolean)
            ? "No generations match these filters."
            : "No generations match. Create one from “Create”."
        }
      >
        {(data) => (
          <>
            <ul class="gallery">
              {data.tasks.map((task) => (
                <li key={task.id}>
                  <a
                    href={`#/task/${task.id}`}
                    class="tile"
                    aria-label={`${task.model}, ${task.status}, ${task.id}`}
                  >
                    <Media task={task} kind={kinds.get(task.model)} />
                    <span class="tile-line">
                      <span class="tile-model">{task.model}</span>
                      <span class={`status status-${task.status}`}>{task.status}</span>
                    </span>
                    <span class="tile-when">{when(task.created_at)}</span>
                  </a>
                </li>
              ))}
            </ul>
            <div class="pager">
              <button
                type="button"
                disabled={pages.length === 1}
                onClick={() => setPages(pages.slice(0, -1))}
              >
                Newer
              </button>
              <button
                type="button"
                disabled={!data.next_cursor}
                onClick={() => data.next_cursor && setPages([...pages, data.next_cursor])}
              >
                Older
              </button>
            </div>
          </>
        )}
      </Loaded>
    </Section>
  );
}

interface History {
  status: string;
  model: string;
  door: string;
  price: number;
  attempts: {
    number: number;
    provider: string;
    upstream_model: string;
    state: string;
    failure_kind: string | null;
    error: string | null;
    started_at: number;
    ended_at: number | null;
  }[];
  events: { from: string | null; to: string; source: string; at: number; detail?: unknown }[];
}
interface Deliveries {
  deliveries: {
    id: string;
    event: string;
    url: string;
    state: string;
    created_at: number;
    next_try_at: number | null;
    last_status: number | null;
    attempts: {
      number: number;
      at: number;
      status: number | null;
      latency_ms: number | null;
      error: string | null;
    }[];
  }[];
}

export function TaskPage({ credential, id }: { credential: Credential; id: string }) {
  const task = useApi<TaskView>(credential, `/v1/tasks/${id}`);
  const history = useApi<History>(credential, `/v1/tasks/${id}/history`);
  const deliveries = useApi<Deliveries>(credential, `/v1/tasks/${id}/deliveries`);
  const models = useApi<{ models: Model[] }>(credential, "/v1/models");
  const action = useAction();
  const ended = task.data && ["completed", "failed"].includes(task.data.status);
  return (
    <>
      <Section
        title={`Task ${id}`}
        actions={
          task.data &&
          !ended && (
            <button
              type="button"
              class="danger"
              disabled={action.busy}
              onClick={() =>
                action.run(async () => {
                  await apiFetch(`/v1/tasks/${id}/cancel`, { credential, method: "POST" });
                  await Promise.all([task.reload(), history.reload()]);
                })
              }
            >
              Cancel
            </button>
          )
        }
      >
        <Loaded state={task}>
          {(t) => (
            <div class="task-head">
              <Media task={t} kind={kindsOf(models.data?.models).get(t.model)} />
              <dl>
                <dt>Status</dt>
                <dd>
                  <span class={`status status-${t.status}`}>{t.status}</span>
                </dd>
                <dt>Model</dt>
                <dd>{t.model}</dd>
                <dt>Door</dt>
                <dd>{history.data?.door ?? "—"}</dd>
                <dt>Price</dt>
                <dd class="num-left">{history.data ? `${history.data.price} credits` : "—"}</dd>
                <dt>Created</dt>
                <dd>{when(t.created_at)}</dd>
                <dt>Ended</dt>
                <dd>{when(t.completed_at)}</dd>
                {t.error && (
                  <>
                    <dt>Error</dt>
                    <dd>{t.error.message ?? t.error.code}</dd>
                  </>
                )}
                {(t.output?.urls ?? []).map((url, i) => (
                  <>
                    <dt key={`t${url}`}>Result {i + 1}</dt>
                    <dd key={url}>
                      <a href={url} target="_blank" rel="noreferrer noopener">
                        open
                      </a>
                    </dd>
                  </>
                ))}
              </dl>
            </div>
          )}
        </Loaded>
      </Section>
      <Section title="History">
        <Loaded state={history}>
          {(h) => (
            <>
              <h3>Attempts</h3>
              {h.attempts.length === 0 ? (
                <p class="empty">No attempt at a provider yet.</p>
              ) : (
                <div class="scroll">
                  <table>
                    <thead>
                      <tr>
                        <th>#</th>
                        <th>Provider</th>
                        <th>Upstream model</th>
                        <th>State</th>
                        <th>Started</th>
                        <th>Ended</th>
                        <th>Error</th>
                      </tr>
                    </thead>
                    <tbody>
                      {h.attempts.map((a) => (
                        <tr key={a.number}>
                          <td class="num">{a.number}</td>
                          <td>{a.provider}</td>
                          <td>{a.upstream_model}</td>
                          <td>{a.state}</td>
                          <td>{when(a.started_at)}</td>
                          <td>{when(a.ended_at)}</td>
                          <td>{[a.failure_kind, a.error].filter(Boolean).join(": ")}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <h3>Events</h3>
              <ol class="events">
                {h.events.map((e, i) => (
                  <li key={i}>
                    <span class="muted">{when(e.at)}</span> {e.from ?? "created"} →{" "}
                    <strong>{e.to}</strong> <span class="muted">({e.source})</span>
                  </li>
                ))}
              </ol>
            </>
          )}
        </Loaded>
      </Section>
      <Section
        title="Deliveries"
        actions={
          deliveries.data &&
          deliveries.data.deliveries.length > 0 && (
            <button
              type="button"
              disabled={action.busy}
              onClick={() =>
                action.run(async () => {
                  await apiFetch(`/v1/tasks/${id}/deliveries/redeliver`, {
                    credential,
                    method: "POST",
                  });
                  await deliveries.reload();
                })
              }
            >
              Redeliver
            </button>
          )
        }
      >
        <ErrorNote error={action.error} />
        <Loaded
          state={deliveries}
          empty={(d) => d.deliveries.length === 0}
          emptyText="No client callback: the task was created without a callback_url."
        >
          {(d) => (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Webhook id</th>
                    <th>URL</th>
                    <th>State</th>
                    <th class="num">Tries</th>
                    <th class="num">Last status</th>
                    <th>Next try</th>
                  </tr>
                </thead>
                <tbody>
                  {d.deliveries.map((x) => (
                    <tr key={x.id}>
                      <td>
                        <code>{x.id}</code>
                      </td>
                      <td class="break">{x.url}</td>
                      <td>{x.state}</td>
                      <td class="num">{x.attempts.length}</td>
                      <td class="num">{x.last_status ?? "—"}</td>
                      <td>{when(x.next_try_at)}</td>
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

/** Follows a task live (its event stream) until it ends, then shows its result. */
export function LiveTask(props: { credential: Credential; id: string; kind?: Model["kind"] }) {
  const { credential, id } = props;
  const [task, setTask] = useState<TaskView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    const read = async () => {
      const next = await apiFetch<TaskView>(`/v1/tasks/${id}`, { credential });
      if (!abort.signal.aborted) setTask(next);
    };
    // Each event carries the task as it stood then; the stream ends after the last one.
    readSse(
      `/v1/tasks/${id}/events`,
      credential,
      (_event, data) => {
        if (data && typeof data === "object" && "status" in data) setTask(data as TaskView);
      },
      abort.signal,
    )
      .then(read)
      .catch(() => (abort.signal.aborted ? undefined : read()))
      .catch((e: Error) => {
        if (!abort.signal.aborted) setError(e.message);
      });
    return () => abort.abort();
  }, [credential, id]);
  return (
    <div class="live" aria-live="polite" data-task={id}>
      {task ? <Media task={task} kind={props.kind} /> : <div class="media" />}
      <p>
        <a href={`#/task/${id}`}>{id}</a>{" "}
        {task && <span class={`status status-${task.status}`}>{task.status}</span>}
      </p>
      <ErrorNote error={error} />
    </div>
  );
}
