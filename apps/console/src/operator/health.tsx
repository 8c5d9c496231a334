import { useState } from "preact/hooks";
import { apiFetch, type Credential } from "../api";
import { ErrorNote, Section, useAction } from "../ui/shared";
import { age, count, millis, percent } from "./format";
import { type Live, useLive } from "./live";
import type { ProviderHealth, QueueDepth } from "./types";

/**
 * One line under a live table, always there, so the figures never move: when they were read, or
 * why the last refresh failed (the figures above are then the last good ones).
 */
function LiveNote({ state, everyMs }: { state: Live<unknown>; everyMs: number }) {
  const at = state.at ? new Date(state.at).toLocaleTimeString() : null;
  return (
    <p class={state.error ? "op-live op-live-stale" : "op-live"} aria-live="polite">
      {state.error
        ? `${state.error.message}${at ? ` Showing figures from ${at}.` : ""}`
        : at
          ? `Updated ${at}, every ${everyMs / 1000} s.`
          : "Loading…"}
    </p>
  );
}

const circuitText = { closed: "closed", half_open: "half open", open: "open" } as const;

function Limits({ limits }: { limits: ProviderHealth["limits"] }) {
  const parts = [
    limits.requests_per_minute === null ? null : `${count(limits.requests_per_minute)}/min`,
    limits.max_concurrent === null ? null : `${count(limits.max_concurrent)} at once`,
  ].filter((p) => p !== null);
  return <>{parts.length ? parts.join(", ") : "none"}</>;
}

const PROVIDERS_EVERY_MS = 3000;

/** Each provider's circuit, load and the last 15 minutes of its attempts, refreshed live. */
export function ProvidersPage({ credential }: { credential: Credential }) {
  const live = useLive<ProviderHealth[]>(credential, "/admin/v1/providers", PROVIDERS_EVERY_MS);
  const window = live.data?.[0]?.window_minutes ?? 15;
  return (
    <Section title={`Providers (last ${window} minutes)`}>
      <LiveNote state={live} everyMs={PROVIDERS_EVERY_MS} />
      {live.data?.length === 0 && <p class="empty">No providers are configured.</p>}
      {live.data && live.data.length > 0 && (
        <table class="op-table op-providers">
          <thead>
            <tr>
              <th scope="col">Provider</th>
              <th scope="col">Circuit</th>
              <th scope="col" class="num">
                Attempts
              </th>
              <th scope="col" class="num">
                Error rate
              </th>
              <th scope="col" class="num">
                p50
              </th>
              <th scope="col" class="num">
                p95
              </th>
              <th scope="col" class="num">
                Share
              </th>
              <th scope="col" class="num">
                In flight
              </th>
              <th scope="col">Limits</th>
            </tr>
          </thead>
          <tbody>
            {live.data.map((p) => (
              <tr key={p.id} data-provider={p.id}>
                <th scope="row" data-label="Provider">
                  {p.id}
                  <span class="op-models">{p.models.join(", ")}</span>
                </th>
                <td data-label="Circuit">
                  <span class={`circuit circuit-${p.circuit}`}>{circuitText[p.circuit]}</span>
                  {p.paused_until && (
                    <span class="op-models">
                      paused until {new Date(p.paused_until).toLocaleTimeString()}
                    </span>
                  )}
                </td>
                <td class="num" data-label="Attempts">
                  {count(p.attempts)}
                </td>
                <td class="num" data-label="Error rate" title={`${p.failed} failed`}>
                  {percent(p.error_rate)}
                </td>
                <td class="num" data-label="Latency p50">
                  {millis(p.latency_ms.p50)}
                </td>
                <td class="num" data-label="Latency p95">
                  {millis(p.latency_ms.p95)}
                </td>
                <td class="num" data-label="Share of traffic">
                  {percent(p.traffic_share)}
                </td>
                <td class="num" data-label="In flight">
                  {count(p.in_flight)}
                </td>
                <td data-label="Limits">
                  <Limits limits={p.limits} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

const QUEUES_EVERY_MS = 3000;
const queueStates = ["waiting", "prioritized", "active", "delayed", "failed", "completed"] as const;
const title = (state: string) => state[0]?.toUpperCase() + state.slice(1);

/** Jobs per state in each of Ripen's queues, refreshed live, and the way into the queue board. */
export function QueuesPage({ credential }: { credential: Credential }) {
  const live = useLive<{ board_url: string; queues: QueueDepth[] }>(
    credential,
    "/admin/v1/queues",
    QUEUES_EVERY_MS,
  );
  const board = useAction();
  const [opened, setOpened] = useState(false);
  const openBoard = () =>
    board.run(async () => {
      // The board is a page of its own, which cannot send the Bearer header: the session
      // cookie (HttpOnly, Path=/admin) lets the new tab in. The tab is opened first, inside the
      // click, so popup blockers allow it; it is pointed at the board once the cookie is set.
      const tab = window.open("about:blank", "_blank");
      try {
        const session = await apiFetch<{ board_url: string }>("/admin/v1/session", {
          credential,
          method: "POST",
        });
        if (tab) tab.location.href = session.board_url;
        else window.location.href = session.board_url;
        setOpened(true);
      } catch (error) {
        tab?.close();
        throw error;
      }
    });
  return (
    <Section
      title="Queues"
      actions={
        <button type="button" onClick={openBoard} disabled={board.busy}>
          Open queue board
        </button>
      }
    >
      <ErrorNote error={board.error} />
      {opened && !board.error && (
        <p class="muted">The queue board opened in a new tab (signed in for 12 hours).</p>
      )}
      <LiveNote state={live} everyMs={QUEUES_EVERY_MS} />
      {live.data?.queues.length === 0 && <p class="empty">No queues.</p>}
      {live.data && live.data.queues.length > 0 && (
        <table class="op-table op-queues">
          <thead>
            <tr>
              <th scope="col">Queue</th>
              {queueStates.map((s) => (
                <th key={s} scope="col" class="num">
                  {title(s)}
                </th>
              ))}
              <th scope="col" class="num">
                Oldest waiting
              </th>
            </tr>
          </thead>
          <tbody>
            {live.data.queues.map((q) => (
              <tr key={q.name} data-queue={q.name}>
                <th scope="row" data-label="Queue">
                  {q.name}
                </th>
                {queueStates.map((s) => (
                  <td key={s} class="num" data-label={title(s)}>
                    {count(q[s])}
                  </td>
                ))}
                <td class="num" data-label="Oldest waiting">
                  {age(q.oldest_waiting_age_ms)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
