import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, apiFetch, readSse, whenUnauthorized } from "./api";

// The console's one way to call Ripen, against a stand-in that answers as Ripen's doors do.

let server: ReturnType<ReturnType<typeof express>["listen"]>;
let base: string;
const credential = { kind: "client" as const, token: "sk-test" };

beforeAll(async () => {
  const app = express();
  app.use(express.json());
  app.get("/ok", (req, res) => {
    res.json({ code: 200, msg: "success", data: { auth: req.headers.authorization } });
  });
  app.post("/echo", (req, res) => {
    res.json({ code: 200, msg: "success", data: req.body });
  });
  app.get("/down", (_req, res) => {
    res.status(503).json({ code: 503, msg: "Service temporarily unavailable" });
  });
  app.get("/revoked", (_req, res) => {
    res.status(401).json({ code: 401, msg: "API key is invalid, disabled, or deleted." });
  });
  app.get("/bare-503", (_req, res) => {
    res.status(503).send("");
  });
  app.get("/events", (_req, res) => {
    res.set("content-type", "text/event-stream");
    res.write(": heartbeat\n\n");
    res.write('event: batch\ndata: {"progress":0.5}\n\n');
    res.end('id: 2\nevent: batch\ndata: {"progress":1}\n\n');
  });
  server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: unknown) => error as ApiError,
  );

describe("apiFetch", () => {
  it("sends the credential and unwraps the envelope's data", async () => {
    expect(await apiFetch(`${base}/ok`, { credential })).toEqual({ auth: "Bearer sk-test" });
    expect(await apiFetch(`${base}/echo`, { credential, body: { a: 1 } })).toEqual({ a: 1 });
  });

  it("throws the envelope's status and message, and reports a 401 to the shell", async () => {
    const down = await failure(apiFetch(`${base}/down`, { credential }));
    expect(down).toBeInstanceOf(ApiError);
    expect(down.status).toBe(503);
    expect(down.message).toBe("Service temporarily unavailable");
    const bare = await failure(apiFetch(`${base}/bare-503`, { credential }));
    expect(bare.message).toMatch(/unavailable/i);

    const heard: string[] = [];
    whenUnauthorized((message) => heard.push(message));
    const revoked = await failure(apiFetch(`${base}/revoked`, { credential }));
    expect(revoked.status).toBe(401);
    expect(heard).toEqual(["API key is invalid, disabled, or deleted."]);
    whenUnauthorized(() => {});
  });

  it("says Ripen cannot be reached when nothing answers", async () => {
    const error = await failure(apiFetch("http://127.0.0.1:9/none", { credential }));
    expect(error.status).toBe(0);
  });
});

describe("readSse", () => {
  it("passes each event's name and parsed data, skipping comments, until the stream ends", async () => {
    const events: [string, unknown][] = [];
    await readSse(
      `${base}/events`,
      credential,
      (event, data) => events.push([event, data]),
      new AbortController().signal,
    );
    expect(events).toEqual([
      ["batch", { progress: 0.5 }],
      ["batch", { progress: 1 }],
    ]);
  });
});
