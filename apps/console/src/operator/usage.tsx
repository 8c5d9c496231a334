import { useMemo, useState } from "preact/hooks";
import type { Credential } from "../api";
import { Loaded, Section, useApi } from "../ui/shared";
import { DailyMarginChart, dailySeries } from "./chart";
import { count, percent, usd } from "./format";
import type { UsageRow } from "./types";

const periods = [
  ["1", "Last 24 hours"],
  ["7", "Last 7 days"],
  ["30", "Last 30 days"],
  ["all", "All time"],
] as const;
type Period = (typeof periods)[number][0];

const CHART_DAYS = 30;

function marginShare(row: Pick<UsageRow, "charged_usd" | "margin_usd">): string {
  return row.charged_usd > 0 ? percent(row.margin_usd / row.charged_usd) : "—";
}

/** Usage, upstream cost and margin: per day as a chart, per provider and model as a table. */
export function UsagePage({ credential }: { credential: Credential }) {
  const [period, setPeriod] = useState<Period>("30");
  // The period's start is fixed when it is chosen, so a re-render does not re-query.
  const from = useMemo(
    () => (period === "all" ? null : Math.floor(Date.now() / 1000) - Number(period) * 86_400),
    [period],
  );
  const table = useApi<{ usage: UsageRow[] }>(
    credential,
    `/admin/v1/usage?group_by=provider,model${from === null ? "" : `&from=${from}`}`,
  );
  // The chart's days start at a UTC midnight, fixed for the life of the page.
  const chartFrom = useMemo(() => Math.floor(Date.now() / 86_400_000 - CHART_DAYS) * 86_400, []);
  const daily = useApi<{ usage: UsageRow[] }>(
    credential,
    `/admin/v1/usage?group_by=day&from=${chartFrom}`,
  );
  return (
    <>
      <Section title={`Charged and upstream cost per day (last ${CHART_DAYS} days)`}>
        <Loaded state={daily}>
          {(d) => <DailyMarginChart series={dailySeries(d.usage, CHART_DAYS, Date.now())} />}
        </Loaded>
      </Section>
      <Section
        title="Usage and margin per provider and model"
        actions={
          <label class="op-inline">
            Period
            <select
              value={period}
              onChange={(e) => setPeriod((e.target as HTMLSelectElement).value as Period)}
            >
              {periods.map(([value, text]) => (
                <option key={value} value={value}>
                  {text}
                </option>
              ))}
            </select>
          </label>
        }
      >
        <Loaded
          state={table}
          empty={(d) => d.usage.length === 0}
          emptyText="No tasks in this period."
        >
          {(d) => <UsageTable rows={d.usage} />}
        </Loaded>
      </Section>
    </>
  );
}

function UsageTable({ rows }: { rows: UsageRow[] }) {
  const total = rows.reduce(
    (sum, r) => ({
      tasks: sum.tasks + r.tasks,
      charged_credits: sum.charged_credits + r.charged_credits,
      charged_usd: sum.charged_usd + r.charged_usd,
      upstream_usd: sum.upstream_usd + r.upstream_usd,
      margin_usd: sum.margin_usd + r.margin_usd,
    }),
    { tasks: 0, charged_credits: 0, charged_usd: 0, upstream_usd: 0, margin_usd: 0 },
  );
  return (
    <table class="op-table op-usage">
      <thead>
        <tr>
          <th scope="col">Provider</th>
          <th scope="col">Model</th>
          <th scope="col" class="num">
            Tasks
          </th>
          <th scope="col" class="num">
            Credits
          </th>
          <th scope="col" class="num">
            Charged
          </th>
          <th scope="col" class="num">
            Upstream
          </th>
          <th scope="col" class="num">
            Margin
          </th>
          <th scope="col" class="num">
            Margin %
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.provider}:${r.model}`} data-usage={`${r.provider ?? ""}:${r.model}`}>
            <th scope="row" data-label="Provider">
              {r.provider ?? "none (never submitted)"}
            </th>
            <td data-label="Model">{r.model}</td>
            <td class="num" data-label="Tasks">
              {count(r.tasks)}
            </td>
            <td class="num" data-label="Credits">
              {count(r.charged_credits)}
            </td>
            <td class="num" data-label="Charged">
              {usd(r.charged_usd)}
            </td>
            <td class="num" data-label="Upstream">
              {usd(r.upstream_usd)}
            </td>
            <td class={r.margin_usd < 0 ? "num op-loss" : "num"} data-label="Margin">
              {usd(r.margin_usd)}
            </td>
            <td class="num" data-label="Margin %">
              {marginShare(r)}
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row" data-label="">
            Total
          </th>
          <td data-label="" />
          <td class="num" data-label="Tasks">
            {count(total.tasks)}
          </td>
          <td class="num" data-label="Credits">
            {count(total.charged_credits)}
          </td>
          <td class="num" data-label="Charged">
            {usd(total.charged_usd)}
          </td>
          <td class="num" data-label="Upstream">
            {usd(total.upstream_usd)}
          </td>
          <td class={total.margin_usd < 0 ? "num op-loss" : "num"} data-label="Margin">
            {usd(total.margin_usd)}
          </td>
          <td class="num" data-label="Margin %">
            {marginShare(total)}
          </td>
        </tr>
      </tfoot>
    </table>
  );
}
