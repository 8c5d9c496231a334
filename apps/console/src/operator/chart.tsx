import { usd } from "./format";
import type { UsageRow } from "./types";

export interface DayFigures {
  day: string;
  charged: number;
  upstream: number;
}

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The last `days` UTC days up to today (or the latest day with usage, if later), one entry
 * each, days without tasks as zeros: the chart's width means time, not how many days had tasks.
 */
export function dailySeries(rows: readonly UsageRow[], days: number, nowMs: number): DayFigures[] {
  const byDay = new Map<string, DayFigures>();
  for (const row of rows) {
    if (!row.day) continue;
    const figures = byDay.get(row.day) ?? { day: row.day, charged: 0, upstream: 0 };
    figures.charged += row.charged_usd;
    figures.upstream += row.upstream_usd;
    byDay.set(row.day, figures);
  }
  const latest = Math.max(
    Date.parse(`${dayOf(nowMs)}T00:00:00Z`),
    ...[...byDay.keys()].map((day) => Date.parse(`${day}T00:00:00Z`)),
  );
  const series: DayFigures[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = dayOf(latest - i * DAY_MS);
    series.push(byDay.get(day) ?? { day, charged: 0, upstream: 0 });
  }
  return series;
}

const WIDTH = 720;
const HEIGHT = 240;
const PAD = { top: 10, right: 32, bottom: 30, left: 96 };

/**
 * Charged and upstream dollars per day as paired bars, their gap the day's margin. A fixed
 * viewBox scales to any width without moving what is around it; each bar's <title> carries its
 * exact figure, and the caption the period's totals.
 */
export function DailyMarginChart({ series }: { series: readonly DayFigures[] }) {
  const max = Math.max(...series.flatMap((d) => [d.charged, d.upstream]));
  const top = max > 0 ? max : 1;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, series.length);
  const bar = Math.max(1, slot * 0.4);
  const y = (value: number) => PAD.top + plotH - (value / top) * plotH;
  // A date every few days, so labels never overlap however many days there are.
  const labelEvery = Math.ceil(series.length / 6);
  const charged = series.reduce((sum, d) => sum + d.charged, 0);
  const upstream = series.reduce((sum, d) => sum + d.upstream, 0);
  return (
    <figure class="op-chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Charged and upstream dollars per day, ${series[0]?.day} to ${series.at(-1)?.day}`}
      >
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line
              class="op-chart-grid"
              x1={PAD.left}
              x2={WIDTH - PAD.right}
              y1={y(f * top)}
              y2={y(f * top)}
            />
            <text class="op-chart-axis" x={PAD.left - 8} y={y(f * top) + 5} text-anchor="end">
              {max > 0 || f === 0 ? usd(f * top) : ""}
            </text>
          </g>
        ))}
        {series.map((d, i) => {
          const x = PAD.left + i * slot + (slot - 2 * bar) / 2;
          return (
            <g key={d.day}>
              <rect
                class="op-chart-charged"
                x={x}
                y={y(d.charged)}
                width={bar}
                height={y(0) - y(d.charged)}
              >
                <title>{`${d.day}: charged ${usd(d.charged)}`}</title>
              </rect>
              <rect
                class="op-chart-upstream"
                x={x + bar}
                y={y(d.upstream)}
                width={bar}
                height={y(0) - y(d.upstream)}
              >
                <title>{`${d.day}: upstream ${usd(d.upstream)}`}</title>
              </rect>
              {(series.length - 1 - i) % labelEvery === 0 && (
                <text class="op-chart-axis" x={x + bar} y={HEIGHT - 8} text-anchor="middle">
                  {d.day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        <span>
          <i class="op-key-charged" /> charged {usd(charged)}
        </span>
        <span>
          <i class="op-key-upstream" /> upstream cost {usd(upstream)}
        </span>
        <span>
          margin <strong>{usd(charged - upstream)}</strong>
        </span>
      </figcaption>
    </figure>
  );
}
