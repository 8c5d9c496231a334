import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { type ApiError, apiFetch, type Credential } from "../api";

/** A read the view shows, with its loading and error states, and a reload. */
export function useApi<T>(credential: Credential, path: string | null) {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({
    loading: path !== null,
  });
  const load = useCallback(async () => {
    if (path === null) return;
    setState((s) => ({ ...s, loading: true }));
    try {
      setState({ data: await apiFetch<T>(path, { credential }), loading: false });
    } catch (error) {
      setState({ error: error as ApiError, loading: false });
    }
  }, [credential, path]);
  useEffect(() => {
    void load();
  }, [load]);
  return { ...state, reload: load };
}

/** Runs an action of the user's, keeping its error to show beside the control. */
export function useAction() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<void>) => {
    // The button is disabled while busy, which drops keyboard focus to the page: give it back.
    const focused = document.activeElement;
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
      if (focused instanceof HTMLElement && document.activeElement === document.body) {
        requestAnimationFrame(() => focused.isConnected && focused.focus());
      }
    }
  };
  return { error, busy, run };
}

export function ErrorNote({ error }: { error?: { message: string } | string | null }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {typeof error === "string" ? error : error.message}
    </p>
  );
}

/** Loading, error, empty or the content: every list says which. */
export function Loaded<T>(props: {
  state: { data?: T; error?: ApiError; loading: boolean };
  empty?: (data: T) => boolean;
  emptyText?: string;
  children: (data: T) => ComponentChildren;
}) {
  const { state } = props;
  if (state.error) return <ErrorNote error={state.error} />;
  if (state.data === undefined) return <p class="muted">Loading…</p>;
  if (props.empty?.(state.data))
    return <p class="empty">{props.emptyText ?? "Nothing here yet."}</p>;
  return <>{props.children(state.data)}</>;
}

export function Section(props: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <section class="card">
      <header class="card-head">
        <h2>{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

/** Bars per day, stacked by series: an inline SVG with a fixed size, so nothing shifts. */
export function DayChart(props: {
  rows: { day: string; series: string; value: number }[];
  unit: string;
}) {
  const days = [...new Set(props.rows.map((r) => r.day))].sort();
  const series = [...new Set(props.rows.map((r) => r.series))].sort();
  if (days.length === 0) return <p class="empty">No usage in this period.</p>;
  const totals = days.map((d) =>
    props.rows.filter((r) => r.day === d).reduce((sum, r) => sum + r.value, 0),
  );
  const max = Math.max(1, ...totals);
  const width = 640;
  const height = 200;
  const bar = Math.max(4, Math.min(48, (width - 40) / days.length - 6));
  const colors = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4b5563"];
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height + 24}`} role="img" aria-label={`${props.unit} per day`}>
        {days.map((day, i) => {
          let y = height;
          const x = 30 + i * ((width - 40) / days.length);
          return (
            <g key={day}>
              {series.map((s, j) => {
                const value = props.rows.find((r) => r.day === day && r.series === s)?.value ?? 0;
                const h = (value / max) * (height - 10);
                y -= h;
                return (
                  <rect key={s} x={x} y={y} width={bar} height={h} fill={colors[j % colors.length]}>
                    <title>{`${day} ${s}: ${value} ${props.unit}`}</title>
                  </rect>
                );
              })}
              <text x={x} y={height + 16} font-size="10">
                {day.slice(5)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        {series.map((s, j) => (
          <span key={s}>
            <i style={{ background: colors[j % colors.length] }} /> {s}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
