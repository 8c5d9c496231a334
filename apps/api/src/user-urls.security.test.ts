import { tasks } from "@ripen/db";
import { refusedCorpus } from "@ripen/net/ssrf-corpus";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The submit-time half of the SSRF guard: a create naming a user URL whose host is a refused IP
 * literal is a 400 naming the field and the range, and nothing is created or held. Host names
 * pass here; their addresses are checked when Ripen connects (packages/net).
 */

let stack: TestStack;
let key: string;

// As in production: loopback refused. Validation needs no upstream work, so no worker.
beforeAll(async () => {
  stack = await startTestStack({ worker: false, userUrls: { allowLoopback: false } });
  ({ apiKey: key } = await stack.createAccount(100_000));
});
afterAll(() => stack?.close());

const image = (body: unknown) => stack.request("POST", "/v1/images/generations", { key, body });
const video = (body: unknown) => stack.request("POST", "/v1/videos/generations", { key, body });
const taskCount = async () => (await stack.db.db.select({ n: count() }).from(tasks))[0]!.n;
const credits = async () => (await stack.request("GET", "/v1/credits", { key })).body.data;

function expectRefused(res: { status: number; body: any }, field: string, reason: RegExp) {
  expect(res.status).toBe(400);
  expect(res.body.error).toMatchObject({ code: "invalid_request", type: "invalid_request_error" });
  const said =
    /^'(.+?)' is not allowed: its host (.+?) is (.+)\. Ripen calls and fetches public addresses only\.$/.exec(
      res.body.error.message,
    );
  expect(said, res.body.error.message).not.toBeNull();
  expect(said![1]).toBe(field);
  expect(said![3]).toMatch(reason);
}

describe("a refused literal host is a 400 naming the field, and creates nothing", () => {
  it.each(refusedCorpus)("callback_url http://$host/ ($why)", async ({ host, reason }) => {
    const before = await taskCount();
    const res = await image({
      model: "nano-banana-2",
      input: { prompt: "a cat" },
      callback_url: `http://${host}/hooks/ripen`,
    });
    expectRefused(res, "callback_url", reason);
    expect(await taskCount()).toBe(before);
  });

  it.each(refusedCorpus)("an image_urls item http://$host/ ($why)", async ({ host, reason }) => {
    const before = await taskCount();
    const res = await image({
      model: "nano-banana-2",
      input: {
        prompt: "a cat",
        image_urls: ["https://images.example.com/a.png", `https://${host}:8443/b.png`],
      },
    });
    expectRefused(res, "input.image_urls.1", reason);
    expect(await taskCount()).toBe(before);
  });

  it.each([
    ["169.254.169.254", /^metadata \(169\.254\.169\.254\)/],
    ["[fd00:ec2::254]", /^metadata \(fd00:ec2::254\)/],
    ["10.0.0.1", /^private \(10\.0\.0\.0\/8\)/],
    ["2130706433", /^loopback \(127\.0\.0\.0\/8\)/],
    ["[::ffff:7f00:1]", /^loopback .* as IPv4-mapped/],
  ])("a video's image_url http://%s/", async (host, reason) => {
    const before = await taskCount();
    const res = await video({
      model: "veo-3.1-fast",
      input: { prompt: "a cat walking", image_url: `http://${host}/frame.png` },
    });
    expectRefused(res, "input.image_url", reason);
    expect(await taskCount()).toBe(before);
  });

  it("the message says which host and range, and nothing is held", async () => {
    const res = await image({
      model: "nano-banana-2",
      input: { prompt: "a cat" },
      callback_url: "http://0251.0376.0251.0376/latest/meta-data/",
    });
    expect(res.body.error.message).toBe(
      "'callback_url' is not allowed: its host 169.254.169.254 is metadata (169.254.169.254). Ripen calls and fetches public addresses only.",
    );
    expect(await credits()).toMatchObject({ held: 0, balance: 100_000 });
  });

  it("localhost is loopback by name", async () => {
    const res = await image({
      model: "nano-banana-2",
      input: { prompt: "a cat" },
      callback_url: "http://localhost:8080/hook",
    });
    expectRefused(res, "callback_url", /^loopback \(localhost\)/);
  });
});

describe("what passes at submit", () => {
  it.each([
    ["a host name (resolved and checked at delivery)", "https://hooks.example.com/ripen"],
    ["a name that may resolve anywhere (checked at delivery)", "http://127.0.0.1.nip.io/hook"],
    ["a public IPv4 literal", "http://93.184.215.14/hook"],
    ["a public IPv6 literal", "https://[2606:4700:4700::1111]/hook"],
    ["a public address, IPv4-mapped", "https://[::ffff:8.8.8.8]/hook"],
  ])("%s: %s", async (_what, callbackUrl) => {
    const res = await image({
      model: "nano-banana-2",
      input: { prompt: "a cat", image_urls: ["https://images.example.com/cat.png"] },
      callback_url: callbackUrl,
    });
    expect(res.status).toBe(200);
    const created = await stack.request("GET", `/v1/tasks/${res.body.data.taskId}`, { key });
    expect(created.status).toBe(200);
  });

  it("a malformed URL still gets the model's own message", async () => {
    const res = await image({
      model: "nano-banana-2",
      input: { prompt: "a cat", image_urls: ["ftp://10.0.0.1/a.png"] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/'input.image_urls.0'.*http/);
  });

  it("the only tasks are the five allowed creates above", async () => {
    expect(await taskCount()).toBe(5);
  });
});

describe("with allowLoopback (npm start, tests)", () => {
  let local: TestStack;
  let localKey: string;
  beforeAll(async () => {
    local = await startTestStack({ worker: false, userUrls: { allowLoopback: true } });
    ({ apiKey: localKey } = await local.createAccount(1_000));
  });
  afterAll(() => local?.close());

  const create = (callbackUrl: string) =>
    local.request("POST", "/v1/images/generations", {
      key: localKey,
      body: { model: "nano-banana-2", input: { prompt: "a cat" }, callback_url: callbackUrl },
    });

  it.each(["http://127.0.0.1:4000/hook", "http://localhost:4000/hook", "http://[::1]:4000/hook"])(
    "loopback is accepted: %s",
    async (url) => {
      expect((await create(url)).status).toBe(200);
    },
  );

  it.each(refusedCorpus.filter(({ why }) => !why.startsWith("loopback")))(
    "$host stays refused ($why)",
    async ({ host, reason }) => {
      expectRefused(await create(`http://${host}/hook`), "callback_url", reason);
    },
  );
});
