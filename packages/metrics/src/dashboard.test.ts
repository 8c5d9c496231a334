import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { metricsText, registry } from "./index";

// The observability profile's files, checked against what the services export: a dashboard
// panel that names a metric nobody exports shows "No data" forever, and nothing else says so.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}

/** Every series name a scrape can show: counters and gauges as named, histograms' three. */
async function exportedNames(): Promise<Set<string>> {
  await metricsText(); // starts the process metrics, which register on first use
  const names = new Set<string>(["up"]);
  for (const metric of await registry.getMetricsAsJSON()) {
    if (String(metric.type) === "histogram") {
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${metric.name}${suffix}`);
    } else if (String(metric.type) === "summary") {
      for (const suffix of ["", "_sum", "_count"]) names.add(`${metric.name}${suffix}`);
    } else {
      names.add(metric.name);
    }
  }
  return names;
}

/** The metric names an expression reads: identifiers not called as functions, not keywords. */
function metricNamesIn(expr: string): string[] {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, "").replace(/\[[^\]]*\]/g, "");
  const withoutGroupings = withoutLabels.replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, "");
  const keywords = new Set([
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
  ]);
  return [...withoutGroupings.matchAll(/\b([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((name) => !keywords.has(name) && !/^\d/.test(name) && !/^e\d/.test(name));
}

describe("the Grafana dashboard", () => {
  const dashboard = JSON.parse(read("observability/grafana/dashboards/ripen.json")) as {
    uid: string;
    panels: Panel[];
  };
  const datasource = parse(read("observability/grafana/provisioning/datasources/prometheus.yml"));
  const datasourceUid = datasource.datasources[0].uid as string;

  it("queries only metrics the services export, through the provisioned datasource", async () => {
    const exported = await exportedNames();
    const panels = dashboard.panels.filter((panel) => panel.type !== "row");
    expect(panels.length).toBeGreaterThan(20);
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toBe(datasourceUid);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const names = metricNamesIn(target.expr);
        expect(names.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        for (const name of names) {
          expect(exported.has(name), `${panel.title}: ${name} is not exported`).toBe(true);
        }
      }
    }
  });

  it("shows every service, queue family and provider figure", () => {
    const exprs = dashboard.panels
      .flatMap((p) => p.targets ?? [])
      .map((t) => t.expr)
      .join("\n");
    for (const metric of [
      "ripen_http_requests_total",
      "ripen_tasks_created_total",
      "ripen_tasks_ended_total",
      "ripen_queue_jobs",
      "ripen_queue_oldest_waiting_seconds",
      "ripen_queue_wait_seconds_bucket",
      "ripen_upstream_request_duration_seconds_bucket",
      "ripen_upstream_errors_total",
      "ripen_provider_circuit_state",
      "ripen_callbacks_received_total",
      "ripen_deliveries_total",
      "ripen_credits_held",
      "ripen_credits_captured_total",
      "ripen_nodejs_eventloop_lag_p99_seconds",
      "ripen_db_pool_connections",
    ]) {
      expect(exprs, metric).toContain(metric);
    }
  });

  it("is the home of the Grafana the compose profile starts", () => {
    const compose = parse(read("docker-compose.yml"));
    const grafana = compose.services.grafana;
    expect(grafana.profiles).toEqual(["observability"]);
    expect(grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(
      "/var/lib/grafana/dashboards/ripen.json",
    );
    const provider = parse(read("observability/grafana/provisioning/dashboards/ripen.yml"));
    expect(provider.providers[0].options.path).toBe("/var/lib/grafana/dashboards");
    expect(datasource.datasources[0].url).toBe("http://prometheus:9090");
  });
});

describe("the Prometheus scrape config", () => {
  it("scrapes every service of the compose file on the port its /metrics listens on", () => {
    const compose = parse(read("docker-compose.yml"));
    const prometheus = parse(read("observability/prometheus.yml"));
    expect(compose.services.prometheus.profiles).toEqual(["observability"]);
    const targets = new Map<string, number>(
      prometheus.scrape_configs.flatMap(
        (job: { dns_sd_configs: { names: string[]; port: number }[] }) =>
          job.dns_sd_configs.flatMap((sd) => sd.names.map((name) => [name, sd.port] as const)),
      ),
    );
    // Each service's port as its environment sets it in the compose file.
    const portOf = {
      api: Number(compose.services.api.environment.API_PORT),
      callbacks: Number(compose.services.callbacks.environment.CALLBACKS_PORT),
      // The worker's health server (WORKER_HEALTH_PORT, default 3002), which its healthcheck probes.
      worker: Number(
        /127\.0\.0\.1:(\d+)\/readyz/.exec(compose.services.worker.healthcheck.test.join(" "))?.[1],
      ),
    };
    expect(Object.fromEntries(targets)).toEqual(portOf);
  });
});
