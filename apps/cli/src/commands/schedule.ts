/** `schedule create|list|get|update|pause|resume|delete|runs`: recurring batches, over the API. */
import { readRequestsFile } from "./jsonl";
import { allowOnly, apiClientOf, positionalsOf, UsageError, type Values } from "./options";
import { formatDuration, toEpochMs } from "./progress";

export const SCHEDULE_USAGE = `  npm run -s ripen -- schedule create --cron "0 7 * * *" --timezone Europe/Paris --file FILE.jsonl
                         [--callback-url URL] [--partial] [--json]
      cron with an optional leading seconds field; each run submits the file's requests as a
      batch; --callback-url hears of each run's batch ending and of a run that failed
  npm run -s ripen -- schedule list [--json]
  npm run -s ripen -- schedule get ID [--json]
  npm run -s ripen -- schedule update ID [--cron C] [--timezone TZ] [--file FILE.jsonl] [--callback-url URL]
      --callback-url hears of failed runs; with --file, of each run's batch too
  npm run -s ripen -- schedule pause ID | resume ID | delete ID
  npm run -s ripen -- schedule runs ID [--json]
      each run: when it was for, its state, the batch it created or why it failed`;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const first = (source: Json, ...keys: string[]): unknown => {
  for (const key of keys) if (source[key] !== undefined && source[key] !== null) return source[key];
  return undefined;
};

const schedulePath = (id: string) => `/v1/schedules/${encodeURIComponent(id)}`;

/** A list answer may be the array itself or an object holding it (`data`, `schedules`, `runs`). */
function listOf(data: unknown, ...keys: string[]): Json[] {
  if (Array.isArray(data)) return data.filter(isObject);
  if (isObject(data)) {
    for (const key of [...keys, "data", "items"]) {
      const list = data[key];
      if (Array.isArray(list)) return list.filter(isObject);
    }
  }
  return [];
}

const when = (value: unknown): string => {
  const ms = toEpochMs(value);
  return ms === undefined ? "" : new Date(ms).toISOString();
};

function describeSchedule(s: Json): string {
  const template = isObject(s.template) ? s.template : {};
  const requests = Array.isArray(template.requests) ? template.requests.length : undefined;
  const next = when(first(s, "next_run_at", "nextRunAt", "next_run", "nextRun"));
  const batchCallback = first(template, "callback_url", "callbackUrl");
  const runCallback = first(s, "callback_url", "callbackUrl");
  return [
    `${String(first(s, "id", "schedule_id") ?? "?")} ${String(first(s, "state", "status") ?? "")}`,
    `  cron "${String(s.cron ?? "")}" in ${String(s.timezone ?? "")}${requests === undefined ? "" : `, ${requests} request${requests === 1 ? "" : "s"} a run`}`,
    ...(next ? [`  next run ${next}`] : []),
    ...(batchCallback ? [`  each batch's callback ${String(batchCallback)}`] : []),
    ...(runCallback ? [`  failed runs' callback ${String(runCallback)}`] : []),
  ].join("\n");
}

function print(values: Values, data: unknown, human: () => void): void {
  if (values.json) console.log(JSON.stringify(data));
  else human();
}

export async function runSchedule(command: string | undefined, rest: string[], values: Values) {
  const client = () => apiClientOf(values);
  switch (command) {
    case "create": {
      allowOnly("schedule create", values, ["cron", "timezone", "file", "callback-url", "partial"]);
      positionalsOf("schedule create", rest, []);
      if (!values.cron?.trim())
        throw new UsageError('--cron is required, e.g. --cron "0 7 * * *".');
      if (!values.timezone?.trim()) {
        throw new UsageError("--timezone is required, e.g. --timezone Europe/Paris.");
      }
      if (!values.file) throw new UsageError("--file FILE.jsonl is required.");
      const api = client();
      const { requests } = await readRequestsFile(values.file);
      const template: Json = { requests };
      if (values.partial) template.partial = true;
      const body: Json = { cron: values.cron.trim(), timezone: values.timezone.trim(), template };
      // One URL hears both: each run's batch ending (the template's) and a failed run (the
      // schedule's own).
      if (values["callback-url"] !== undefined) {
        template.callback_url = values["callback-url"];
        body.callback_url = values["callback-url"];
      }
      const data = await api.json("POST", "/v1/schedules", body);
      print(values, data, () => {
        const s = isObject(data) ? data : {};
        console.log(String(first(s, "id", "schedule_id", "scheduleId") ?? ""));
        console.error(describeSchedule(s));
      });
      return 0;
    }
    case "update": {
      allowOnly("schedule update", values, ["cron", "timezone", "file", "callback-url", "partial"]);
      const [id] = positionalsOf("schedule update", rest, ["ID"]);
      const api = client();
      const body: Json = {};
      if (values.cron !== undefined) body.cron = values.cron.trim();
      if (values.timezone !== undefined) body.timezone = values.timezone.trim();
      if (values["callback-url"] !== undefined) body.callback_url = values["callback-url"];
      if (values.file !== undefined) {
        const { requests } = await readRequestsFile(values.file);
        const template: Json = { requests };
        if (values.partial) template.partial = true;
        if (values["callback-url"] !== undefined) template.callback_url = values["callback-url"];
        body.template = template;
      }
      if (Object.keys(body).length === 0) {
        throw new UsageError("schedule update needs --cron, --timezone, --file or --callback-url.");
      }
      const data = await api.json("PATCH", schedulePath(id!), body);
      print(values, data, () => console.log(describeSchedule(isObject(data) ? data : {})));
      return 0;
    }
    case "list": {
      allowOnly("schedule list", values, []);
      positionalsOf("schedule list", rest, []);
      const data = await client().json("GET", "/v1/schedules");
      print(values, data, () => {
        const list = listOf(data, "schedules");
        if (list.length === 0) console.error("No schedules.");
        for (const s of list) console.log(describeSchedule(s));
      });
      return 0;
    }
    case "get": {
      allowOnly("schedule get", values, []);
      const [id] = positionalsOf("schedule get", rest, ["ID"]);
      const data = await client().json("GET", schedulePath(id!));
      print(values, data, () => console.log(describeSchedule(isObject(data) ? data : {})));
      return 0;
    }
    case "pause":
    case "resume": {
      allowOnly(`schedule ${command}`, values, []);
      const [id] = positionalsOf(`schedule ${command}`, rest, ["ID"]);
      const data = await client().json("POST", `${schedulePath(id!)}/${command}`);
      print(values, data, () =>
        console.log(`${command === "pause" ? "Paused" : "Resumed"} schedule ${id}.`),
      );
      return 0;
    }
    case "delete": {
      allowOnly("schedule delete", values, []);
      const [id] = positionalsOf("schedule delete", rest, ["ID"]);
      const data = await client().json("DELETE", schedulePath(id!));
      print(values, data ?? null, () => console.log(`Deleted schedule ${id}.`));
      return 0;
    }
    case "runs": {
      allowOnly("schedule runs", values, []);
      const [id] = positionalsOf("schedule runs", rest, ["ID"]);
      const data = await client().json("GET", `${schedulePath(id!)}/runs`);
      print(values, data, () => {
        const runs = listOf(data, "runs");
        if (runs.length === 0) console.error(`No runs of schedule ${id} yet.`);
        for (const run of runs) console.log(describeRun(run));
      });
      return 0;
    }
    default:
      throw new UsageError(`Unknown command: schedule ${command ?? ""}`.trim());
  }
}

function describeRun(run: Json): string {
  const forMs = toEpochMs(first(run, "scheduled_for", "scheduledFor"));
  const ranMs = toEpochMs(first(run, "created_at", "createdAt", "started_at"));
  const late = forMs !== undefined && ranMs !== undefined && ranMs - forMs >= 60_000;
  const error = isObject(run.error) ? run.error : undefined;
  const code = first(run, "error_code", "errorCode") ?? error?.code;
  const message = first(run, "error_message", "errorMessage") ?? error?.message;
  const batch = first(run, "batch_id", "batchId");
  return [
    when(first(run, "scheduled_for", "scheduledFor")),
    String(first(run, "state", "status") ?? ""),
    batch ? `batch ${String(batch)}` : "",
    code || message ? `${String(code ?? "")}: ${String(message ?? "")}` : "",
    late ? `(ran ${formatDuration(ranMs! - forMs!)} late)` : "",
  ]
    .filter(Boolean)
    .join("  ");
}
