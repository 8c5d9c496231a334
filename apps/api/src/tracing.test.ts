import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { gunzipSync } from "node:zlib";
import { terminalTaskStatuses } from "@ripen/db";
import { logTraceFields, startTracing, type Tracing, taskTraceIds } from "@ripen/telemetry";
import { startTestStack, type TestStack } from "@ripen/testkit";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// One trace per task, exported over OTLP/HTTP to a receiver of the test's own: the create, the
// queue hop, the worker's submit and its upstream call, the provider's callback, the ending and
// the client delivery, in one trace whose id every process derives from the task id; and the
// task's log lines carry it.

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: { stringValue?: string } }[];
}

const attribute = (span: ExportedSpan | undefined, key: string) =>
  span?.attributes?.find((a) => a.key === key)?.value.stringValue;

let collector: Server;
const spans: ExportedSpan[] = [];
let clientEndpoint: Server;
let clientUrl: string;
let delivered = 0;
let tracing: Tracing | undefined;
let stack: TestStack;
let stackClosed = false;
const logLines: Record<string, unknown>[] = [];

const listenOnLoopback = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      const payload = JSON.parse(body.toString("utf8")) as {
        resourceSpans: { scopeSpans: { spans: ExportedSpan[] }[] }[];
      };
      for (const resource of payload.resourceSpans) {
        for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = await listenOnLoopback(collector);
  tracing = await startTracing("test");

  clientEndpoint = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      delivered += 1;
      res.writeHead(200).end();
    });
  });
  clientUrl = `${await listenOnLoopback(clientEndpoint)}/hook`;

  const lines = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line) logLines.push(JSON.parse(line));
      }
      done();
    },
  });
  stack = await startTestStack({ logger: pino({ level: "info", mixin: logTraceFields }, lines) });
});
afterAll(async () => {
  if (!stackClosed) await stack?.close();
  await tracing?.shutdown();
  collector?.close();
  clientEndpoint?.close();
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
});

describe("tracing, with OTEL_EXPORTER_OTLP_ENDPOINT set", () => {
  it("puts a task's create, submit, callback, ending and delivery in one trace", async () => {
    expect(tracing).toBeDefined();
    const { apiKey } = await stack.createAccount(1_000);
    const res = await stack.request("POST", "/v1/images/generations", {
      key: apiKey,
      body: { model: "nano-banana-2", input: { prompt: "traced" }, callback_url: clientUrl },
    });
    expect(res.status).toBe(200);
    const taskId = res.body.data.taskId as string;
    expect(await stack.waitForTask(taskId, [...terminalTaskStatuses], 30_000)).toBe("succeeded");
    const deadline = Date.now() + 15_000;
    while (delivered < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(delivered).toBe(1);
    // Closing the stack waits for the jobs still running (the delivery's ends after the client
    // answered), so their spans have ended; then the shutdown exports what is left.
    await stack.close();
    stackClosed = true;
    await tracing!.shutdown();
    tracing = undefined;

    const { traceId, rootSpanId } = taskTraceIds(taskId);
    const inTrace = spans.filter((span) => span.traceId === traceId);
    const names = inTrace.map((span) => span.name);
    for (const name of [
      "task.create",
      "task.submit",
      "task.callback",
      "task.ended",
      "task.delivery",
    ]) {
      expect(names, name).toContain(name);
    }
    // The create is the root; every other span descends from it.
    const root = inTrace.find((span) => span.name === "task.create")!;
    expect(root.spanId).toBe(rootSpanId);
    expect(root.parentSpanId ?? "").toBe("");
    const byId = new Map(inTrace.map((span) => [span.spanId, span]));
    for (const span of inTrace) {
      let at: ExportedSpan | undefined = span;
      for (let hops = 0; at && at.spanId !== rootSpanId && hops < 10; hops++) {
        at = at.parentSpanId ? byId.get(at.parentSpanId) : undefined;
      }
      expect(at?.spanId, `${span.name} descends from the create`).toBe(rootSpanId);
    }
    // No other task's spans in this trace, and no span of this task elsewhere.
    expect(spans.filter((s) => s.traceId !== traceId && s.name.startsWith("task."))).toEqual([]);

    // The queue hop (BullMQ's hook): the job added by the create is processed under it, and the
    // submit runs inside that processing.
    const parentOf = (span: ExportedSpan | undefined) =>
      span?.parentSpanId ? byId.get(span.parentSpanId) : undefined;
    const submit = inTrace.find((span) => span.name === "task.submit");
    const processing = parentOf(submit);
    expect(processing?.name).toBe("process tasks");
    expect(parentOf(processing)?.name).toBe("add tasks.task.run");
    expect(parentOf(parentOf(processing))).toBe(root);
    // The upstream call is a span of the submit, naming the provider it went to.
    const upstream = inTrace.find((span) => span.name === "upstream.submit");
    expect(parentOf(upstream)).toBe(submit);
    expect(attribute(upstream, "ripen.provider")).toBeTruthy();
    expect(attribute(upstream, "ripen.upstream_model")).toBeTruthy();
    // BullMQ's housekeeping (fetching jobs, renewing locks) is not exported.
    expect(spans.filter((span) => span.name.startsWith("getNextJob"))).toEqual([]);

    // The task's lifecycle lines carry its trace id.
    const lifecycle = logLines.filter(
      (line) => line.taskId === taskId && typeof line.event === "string",
    );
    for (const event of ["task.created", "task.submitted", "task.succeeded"]) {
      const line = lifecycle.find((l) => l.event === event);
      expect(line, event).toBeDefined();
      expect(line?.traceId, event).toBe(traceId);
    }
    // A trace id on a log line always leads to an exported trace.
    const exported = new Set(spans.map((span) => span.traceId));
    const orphans = logLines.filter(
      (l) => typeof l.traceId === "string" && !exported.has(l.traceId),
    );
    expect(orphans).toEqual([]);
  });
});
