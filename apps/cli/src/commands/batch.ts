/** `batch submit|watch|status|results|cancel`: a user's batches, over the API. */
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { type ApiClient, ApiError, ApiUnreachable, itemErrorsOf } from "./http";
import { readRequestsFile } from "./jsonl";
import { allowOnly, apiClientOf, positionalsOf, UsageError, type Values } from "./options";
import { type BatchSnapshot, hasEnded, ProgressReporter, summary, toSnapshot } from "./progress";

export const BATCH_USAGE = `  npm run -s ripen -- batch submit FILE.jsonl [--watch] [--partial] [--callback-url URL] [--json]
      one native create body a line ({"model": …, "input": {…}, "callback_url"?}); prints the
      batch id; --watch then shows its progress and exits 0 only if every item succeeded
  npm run -s ripen -- batch watch ID
  npm run -s ripen -- batch status ID [--json]
  npm run -s ripen -- batch results ID [--format jsonl|csv] [--output FILE]
  npm run -s ripen -- batch cancel ID [--json]`;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const batchPath = (id: string) => `/v1/batches/${encodeURIComponent(id)}`;

/** Polling: every second while it answers, backing off to this on errors. */
const POLL_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;

export async function runBatch(command: string | undefined, rest: string[], values: Values) {
  switch (command) {
    case "submit":
      return submit(rest, values);
    case "watch": {
      allowOnly("batch watch", values, []);
      const [id] = positionalsOf("batch watch", rest, ["ID"]);
      return watch(apiClientOf(values), id!);
    }
    case "status":
      return status(rest, values);
    case "results":
      return results(rest, values);
    case "cancel":
      return cancel(rest, values);
    default:
      throw new UsageError(`Unknown command: batch ${command ?? ""}`.trim());
  }
}

async function submit(rest: string[], values: Values): Promise<number> {
  allowOnly("batch submit", values, ["watch", "partial", "callback-url"]);
  const [file] = positionalsOf("batch submit", rest, ["FILE.jsonl"]);
  const client = apiClientOf(values);
  // Every line is read and checked before anything is sent.
  const { requests, lines } = await readRequestsFile(file!);
  const body: Json = { requests };
  if (values.partial) body.partial = true;
  if (values["callback-url"] !== undefined) body.callback_url = values["callback-url"];

  let data: unknown;
  try {
    data = await client.json("POST", "/v1/batches", body);
  } catch (error) {
    // The API names items by index; the user thinks in lines of their file.
    if (error instanceof ApiError && error.items.length > 0) {
      throw new ApiError(
        error.status,
        error.code,
        error.message,
        error.items.map((item) => ({ ...item, line: lines[item.index] })),
      );
    }
    throw error;
  }
  const accepted = isObject(data) ? data : {};
  const id = String(accepted.batch_id ?? accepted.batchId ?? accepted.id ?? "");
  if (!id) throw new Error(`The API accepted the batch but sent no id: ${JSON.stringify(data)}`);
  const rejected = itemErrorsOf(accepted);
  const total = Number(accepted.total ?? requests.length - rejected.length);

  if (values.json) console.log(JSON.stringify(data));
  else console.log(id);
  console.error(
    `Accepted ${total} of ${requests.length} request${requests.length === 1 ? "" : "s"} as batch ${id}.`,
  );
  if (rejected.length > 0) {
    console.error(`Rejected ${rejected.length} (--partial):`);
    for (const item of rejected) {
      console.error(`  line ${lines[item.index] ?? "?"} (item ${item.index}): ${item.message}`);
    }
  }
  if (!values.watch) return 0;
  return watch(client, id);
}

/**
 * Polls the batch until every item has ended, drawing its progress on stderr. Ctrl+C stops the
 * watching, not the batch. Exit code 0 when every item succeeded, 1 otherwise.
 */
async function watch(client: ApiClient, id: string): Promise<number> {
  const reporter = new ProgressReporter(process.stderr);
  const watchStarted = Date.now();
  const onInterrupt = () => {
    reporter.finish();
    process.stderr.write(
      `Stopped watching; batch ${id} keeps running.\nResume with: npm run -s ripen -- batch watch ${id}\n`,
    );
    process.exit(130);
  };
  process.on("SIGINT", onInterrupt);
  let snapshot: BatchSnapshot | undefined;
  let delayMs = POLL_MS;
  try {
    for (;;) {
      try {
        snapshot = toSnapshot(await client.json("GET", batchPath(id)));
        reporter.update(snapshot);
        if (hasEnded(snapshot)) break;
        delayMs = POLL_MS;
      } catch (error) {
        // A 4xx other than 429 will not get better by asking again (bad key, unknown batch).
        const transient =
          error instanceof ApiUnreachable ||
          (error instanceof ApiError && (error.status >= 500 || error.status === 429));
        if (!transient) throw error;
        delayMs = Math.min(delayMs * 2, MAX_BACKOFF_MS);
        reporter.note(
          `ripen: ${(error as Error).message} (retrying in ${Math.round(delayMs / 1000)}s)`,
        );
      }
      await sleep(delayMs);
    }
  } finally {
    process.off("SIGINT", onInterrupt);
    reporter.finish();
  }
  if (!snapshot) throw new Error(`batch ${id} was never read`);
  const wallMs =
    snapshot.elapsedMs ??
    (snapshot.endedAtMs ?? Date.now()) - (snapshot.createdAtMs ?? watchStarted);
  console.log(summary(snapshot, wallMs));
  return snapshot.counts.succeeded === snapshot.total ? 0 : 1;
}

async function status(rest: string[], values: Values): Promise<number> {
  allowOnly("batch status", values, []);
  const [id] = positionalsOf("batch status", rest, ["ID"]);
  const data = await apiClientOf(values).json("GET", batchPath(id!));
  if (values.json) {
    console.log(JSON.stringify(data));
    return 0;
  }
  const s = toSnapshot(data);
  const now = Date.now();
  console.log(summary(s, s.elapsedMs ?? (s.endedAtMs ?? now) - (s.createdAtMs ?? now)));
  if (s.counts.queued + s.counts.running > 0) {
    console.log(`  queued ${s.counts.queued}, running ${s.counts.running}`);
  }
  return 0;
}

const resultFormats = ["jsonl", "csv"] as const;

/** Streams the results to stdout or a file; a file appears whole or not at all. */
async function results(rest: string[], values: Values): Promise<number> {
  allowOnly("batch results", values, ["format", "output"]);
  const [id] = positionalsOf("batch results", rest, ["ID"]);
  const format = values.format ?? "jsonl";
  if (!(resultFormats as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be jsonl or csv, got '${format}'.`);
  }
  const body = await apiClientOf(values).stream(`${batchPath(id!)}/results?format=${format}`);
  if (values.output === undefined || values.output === "-") {
    await pipeline(body, process.stdout, { end: false });
    return 0;
  }
  const partial = `${values.output}.part`;
  try {
    await pipeline(body, createWriteStream(partial));
    await rename(partial, values.output);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  console.error(`Wrote batch ${id}'s results (${format}) to ${values.output}.`);
  return 0;
}

async function cancel(rest: string[], values: Values): Promise<number> {
  allowOnly("batch cancel", values, []);
  const [id] = positionalsOf("batch cancel", rest, ["ID"]);
  const data = await apiClientOf(values).json("POST", `${batchPath(id!)}/cancel`);
  if (values.json) {
    console.log(JSON.stringify(data));
    return 0;
  }
  const body = isObject(data) ? data : {};
  const s = toSnapshot(isObject(body.batch) ? body.batch : body);
  if (s.state === "ended") {
    console.log(
      `Batch ${id} had already ended; nothing to cancel (succeeded ${s.counts.succeeded}, failed ${s.counts.failed}, canceled ${s.counts.canceled}, expired ${s.counts.expired}).`,
    );
    return 0;
  }
  // The answer may say what this cancel did, or only show the batch after it.
  const canceledRaw = body.canceled ?? body.canceled_items ?? s.counts.canceled;
  const canceled = Array.isArray(canceledRaw) ? canceledRaw.length : Number(canceledRaw);
  const released = Number(body.released ?? body.credits_released ?? s.credits.released);
  console.log(
    `Canceled batch ${id}: ${canceled} item${canceled === 1 ? "" : "s"} canceled, ${released} credits released.`,
  );
  const ended = s.counts.succeeded + s.counts.failed + s.counts.expired;
  if (ended > 0) {
    console.log(
      `  already ended before the cancel: succeeded ${s.counts.succeeded}, failed ${s.counts.failed}, expired ${s.counts.expired} (captured ${s.credits.captured} credits)`,
    );
  }
  return 0;
}
