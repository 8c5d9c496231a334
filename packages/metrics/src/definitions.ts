import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Every metric Ripen exports, declared once. One registry per process: `npm start` runs every
 * service in one process and so serves them all on one `/metrics`; each production service
 * serves its own, and the same name from several processes is told apart by Prometheus's
 * `instance`/`job` labels. Label values are always bounded (route patterns, model ids, provider
 * ids, outcomes), never raw URLs or task ids.
 */
export const registry = new Registry();

const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const waitSeconds = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800];

export const httpRequests = new Counter({
  name: "ripen_http_requests_total",
  help: "HTTP requests answered, by service, door, method, route pattern and status code.",
  labelNames: ["service", "door", "method", "route", "status"] as const,
  registers: [registry],
});

export const httpRequestDuration = new Histogram({
  name: "ripen_http_request_duration_seconds",
  help: "Time to answer an HTTP request (to the end of the response), by route pattern.",
  labelNames: ["service", "door", "method", "route"] as const,
  buckets: seconds,
  registers: [registry],
});

export const tasksCreated = new Counter({
  name: "ripen_tasks_created_total",
  help: "Tasks accepted (committed), by model and door.",
  labelNames: ["model", "door"] as const,
  registers: [registry],
});

/** A batch's (or a schedule run's) items, counted by model in one pass. */
export function countTasksCreated(models: readonly string[], door: string): void {
  const byModel = new Map<string, number>();
  for (const model of models) byModel.set(model, (byModel.get(model) ?? 0) + 1);
  for (const [model, count] of byModel) tasksCreated.inc({ model, door }, count);
}

export const tasksEnded = new Counter({
  name: "ripen_tasks_ended_total",
  help: "Tasks ended, by model, door, last provider and outcome (succeeded, failed, canceled, expired).",
  labelNames: ["model", "door", "provider", "outcome"] as const,
  registers: [registry],
});

export const creditsCaptured = new Counter({
  name: "ripen_credits_captured_total",
  help: "Credits captured from holds by succeeded tasks, by model.",
  labelNames: ["model"] as const,
  registers: [registry],
});

export const creditsRefunded = new Counter({
  name: "ripen_credits_refunded_total",
  help: "Credits released from holds by tasks that did not succeed, by model.",
  labelNames: ["model"] as const,
  registers: [registry],
});

export const creditsHeld = new Gauge({
  name: "ripen_credits_held",
  help: "Credits held by tasks in flight, over every account (read from Postgres at scrape).",
  registers: [registry],
});

export const queueJobs = new Gauge({
  name: "ripen_queue_jobs",
  help: "BullMQ jobs per queue and state (waiting, prioritized, active, delayed, failed).",
  labelNames: ["queue", "state"] as const,
  registers: [registry],
});

export const queueOldestWaiting = new Gauge({
  name: "ripen_queue_oldest_waiting_seconds",
  help: "Age of the oldest job waiting to run in each queue (0 when none waits).",
  labelNames: ["queue"] as const,
  registers: [registry],
});

export const queueWait = new Histogram({
  name: "ripen_queue_wait_seconds",
  help: "Time a job waited between becoming due and a worker taking it, per queue.",
  labelNames: ["queue"] as const,
  buckets: waitSeconds,
  registers: [registry],
});

export const upstreamDuration = new Histogram({
  name: "ripen_upstream_request_duration_seconds",
  help: "Provider API calls, by provider, operation (submit, status) and result (ok or a failure kind).",
  labelNames: ["provider", "operation", "result"] as const,
  buckets: seconds,
  registers: [registry],
});

export const upstreamErrors = new Counter({
  name: "ripen_upstream_errors_total",
  help: "Provider API calls that failed, by provider, operation and kind (retry, fail, circuit, unknown).",
  labelNames: ["provider", "operation", "kind"] as const,
  registers: [registry],
});

export const providerCircuit = new Gauge({
  name: "ripen_provider_circuit_state",
  help: "Each provider's circuit: 0 closed, 1 half-open (a trial call may go), 2 open.",
  labelNames: ["provider"] as const,
  registers: [registry],
});

export const providerPaused = new Gauge({
  name: "ripen_provider_paused_seconds",
  help: "Seconds left of a provider's Retry-After pause (0 when not paused).",
  labelNames: ["provider"] as const,
  registers: [registry],
});

export const callbacksReceived = new Counter({
  name: "ripen_callbacks_received_total",
  help: "Provider callbacks received, by provider and outcome (applied, duplicate, forged, invalid...).",
  labelNames: ["provider", "outcome"] as const,
  registers: [registry],
});

export const deliveries = new Counter({
  name: "ripen_deliveries_total",
  help: "Client callback tries, by outcome (sent, failed, gone) and attempt number (1..10, then 10+).",
  labelNames: ["outcome", "attempt"] as const,
  registers: [registry],
});

export const dbPoolConnections = new Gauge({
  name: "ripen_db_pool_connections",
  help: "Postgres pool connections by state (total, idle, waiting clients) and pool.",
  labelNames: ["pool", "state"] as const,
  registers: [registry],
});

export const redisUp = new Gauge({
  name: "ripen_redis_up",
  help: "1 while this process's Redis connection is ready, else 0.",
  registers: [registry],
});
