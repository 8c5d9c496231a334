import { Agent } from "node:http";
import { models } from "@ripen/models";
import { defaultProviders } from "@ripen/providers";
import { fuzzCase, sendFuzzCase, startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doorPricing, pricedDoors } from "./doors/pricing";

let stack: TestStack;
let key: string;
let listed: any[];

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ apiKey: key } = await stack.createAccount(0));
  const response = await stack.request("GET", "/v1/models", { key });
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({ code: 200, msg: "success" });
  listed = response.body.data.models;
});
afterAll(() => stack?.close());

describe("GET /v1/models", () => {
  it("lists all 17 models, each once", () => {
    expect(listed.map((m) => m.id).sort()).toEqual(Object.keys(models).sort());
    expect(listed).toHaveLength(17);
  });

  it.each(Object.keys(models))("%s: kind, providers, native price, deadline", (id) => {
    const spec = models[id]!;
    const entry = listed.find((m) => m.id === id);
    expect(entry.kind).toBe(spec.kind);
    expect(entry.prices.native).toEqual(spec.prices);
    expect(entry.deadline_seconds).toBe(spec.deadlineMs / 1000);
    // Every model is served by at least one provider, each through one of the model's routes.
    expect(entry.providers.length).toBeGreaterThan(0);
    for (const provider of entry.providers) {
      const route = spec.routes.find((r) => r.dialect === provider.dialect);
      expect(route?.upstreamModel).toBe(provider.upstream_model);
      expect(defaultProviders.some((p) => p.id === provider.id)).toBe(true);
    }
    // And every route's dialect has its provider listed.
    for (const route of spec.routes) {
      expect(entry.providers.some((p: { dialect: string }) => p.dialect === route.dialect)).toBe(
        true,
      );
    }
    // Doors that serve the model show their own table; the others none.
    for (const door of pricedDoors) {
      const table = doorPricing[door].pricesOf(id);
      if (table === undefined) expect(entry.prices[door]).toBeUndefined();
      else expect(entry.prices[door]).toEqual(JSON.parse(JSON.stringify(table)));
    }
  });

  it.each(Object.keys(models))("%s: parameters and defaults are the model's own", (id) => {
    const spec = models[id]!;
    const entry = listed.find((m) => m.id === id);
    expect(entry.parameters.prompt).toMatchObject({ type: "string", required: true });
    // The defaults are exactly what the model fills in for a bare request.
    const bare: Record<string, unknown> = { prompt: "x" };
    if (entry.parameters.image_urls?.required) bare.image_urls = ["https://example.com/a.png"];
    const filled = spec.input.parse(bare) as Record<string, unknown>;
    for (const [name, value] of Object.entries(entry.defaults)) expect(filled[name]).toEqual(value);
    for (const [name, value] of Object.entries(filled)) {
      if (!(name in bare)) expect(entry.defaults[name]).toEqual(value);
    }
    // Every allowed value listed is accepted, and a value outside the list is refused.
    for (const [name, parameter] of Object.entries<any>(entry.parameters)) {
      if (!parameter.enum) continue;
      for (const value of parameter.enum) {
        expect(spec.input.safeParse({ ...bare, [name]: value }).success, `${name}=${value}`).toBe(
          true,
        );
      }
      expect(spec.input.safeParse({ ...bare, [name]: "__not_allowed__" }).success).toBe(false);
    }
  });

  it("shows the video durations a model allows", () => {
    const veo = listed.find((m) => m.id === "veo-3.1-fast");
    expect(veo.parameters.duration.enum.length).toBeGreaterThan(0);
    expect(veo.parameters.duration.default).toBe(veo.parameters.duration.enum[0]);
  });

  it("needs an API key, in the native envelope", async () => {
    const anonymous = await stack.request("GET", "/v1/models");
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe("invalid_api_key");
  });

  it("fuzzed: no 5xx", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const failures: string[] = [];
    for (let index = 0; index < 200; index++) {
      const mutation = fuzzCase(
        { method: "GET", path: "/v1/models", headers: { authorization: `Bearer ${key}` } },
        0x30de1,
        index,
      );
      const { status, text } = await sendFuzzCase(stack.apiUrl, mutation, agent);
      if (status >= 500)
        failures.push(`#${index} ${mutation.label}: ${status} ${text.slice(0, 200)}`);
    }
    agent.destroy();
    expect(failures).toEqual([]);
  });
});
