import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { Validator } from "@seriousme/openapi-schema-validator";
import createClient from "openapi-fetch";
import openapiTS, { astToString } from "openapi-typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { paths } from "./openapi-types.generated";

/**
 * The typed client's types, generated from the served document by `openapi-typescript`. The test
 * regenerates them and fails when the committed copy differs; `UPDATE_OPENAPI_TYPES=1` rewrites
 * it.
 */
const typesFile = fileURLToPath(new URL("./openapi-types.generated.ts", import.meta.url));

let stack: TestStack;
let key: string;
let document: any;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ apiKey: key } = await stack.createAccount(10_000));
  const response = await fetch(`${stack.apiUrl}/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("application/json");
  document = await response.json();
});
afterAll(() => stack?.close());

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document, served without an API key", async () => {
    expect(document.openapi).toBe("3.1.0");
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("covers the native API and the four doors, each with its security scheme", () => {
    const native: [string, string][] = [
      ["/v1/images/generations", "post"],
      ["/v1/videos/generations", "post"],
      ["/v1/tasks", "get"],
      ["/v1/tasks/{taskId}", "get"],
      ["/v1/tasks/{taskId}/cancel", "post"],
      ["/v1/tasks/{taskId}/history", "get"],
      ["/v1/tasks/{taskId}/events", "get"],
      ["/v1/tasks/{taskId}/deliveries", "get"],
      ["/v1/tasks/{taskId}/deliveries/redeliver", "post"],
      ["/v1/credits", "get"],
      ["/v1/webhook-secret", "get"],
      ["/v1/webhook-secret/rotate", "post"],
      ["/v1/batches", "post"],
      ["/v1/batches", "get"],
      ["/v1/batches/{batchId}", "get"],
      ["/v1/batches/{batchId}/results", "get"],
      ["/v1/batches/{batchId}/cancel", "post"],
      ["/v1/schedules", "post"],
      ["/v1/schedules/{scheduleId}", "patch"],
      ["/v1/schedules/{scheduleId}/runs", "get"],
      ["/v1/models", "get"],
      ["/v1/cost", "post"],
    ];
    const doors: [string, string, string][] = [
      ["/api/v1/images/generate", "post", "nanobananaBearer"],
      ["/api/v1/images/status", "get", "nanobananaBearer"],
      ["/api/v1/videos/generate", "post", "nanobananaBearer"],
      ["/api/v1/videos/status", "get", "nanobananaBearer"],
      ["/api/v1/account/credits", "get", "nanobananaBearer"],
      ["/api/v1/account/calculate-cost", "post", "nanobananaBearer"],
      ["/api/v1/models", "get", "nanobananaBearer"],
      ["/api/v1/jobs/createTask", "post", "kieBearer"],
      ["/api/v1/jobs/recordInfo", "get", "kieBearer"],
      ["/paid/nano/banana/create", "post", "revidApiKey"],
      ["/paid/banana/pro/create", "post", "revidApiKey"],
      ["/paid/get/taskid", "post", "revidApiKey"],
      ["/paid/get/taskid", "get", "revidApiKey"],
    ];
    for (const [path, method] of native) {
      expect(document.paths[path]?.[method]?.security, `${method} ${path}`).toEqual([
        { bearer: [] },
      ]);
    }
    for (const [path, method, scheme] of doors) {
      expect(document.paths[path]?.[method]?.security, `${method} ${path}`).toEqual([
        { [scheme]: [] },
      ]);
    }
    expect(document.components.securitySchemes.revidApiKey).toEqual({
      type: "apiKey",
      in: "header",
      name: "x-api-key",
    });
    // The request schemas are the routes' own: the native create is strict, its model required.
    const create =
      document.paths["/v1/images/generations"].post.requestBody.content["application/json"].schema;
    expect(create.required).toEqual(["model", "input"]);
    expect(create.additionalProperties).toBe(false);
  });

  it("generates a typed client equal to the committed one", async () => {
    const generated = astToString(await openapiTS(document));
    expect(generated).toContain('"/v1/cost"');
    if (process.env.UPDATE_OPENAPI_TYPES) writeFileSync(typesFile, generated);
    expect(
      readFileSync(typesFile, "utf8") === generated,
      "apps/api/src/openapi-types.generated.ts is stale: rerun this test with UPDATE_OPENAPI_TYPES=1",
    ).toBe(true);
  });
});

describe("a typed client (openapi-typescript + openapi-fetch) against a running Ripen", () => {
  it("creates and reads a native task", async () => {
    const client = createClient<paths>({
      baseUrl: stack.apiUrl,
      headers: { authorization: `Bearer ${key}` },
    });
    const created = await client.POST("/v1/images/generations", {
      body: { model: "nano-banana-2", input: { prompt: "a typed cat", resolution: "2K" } },
    });
    expect(created.response.status).toBe(200);
    const taskId = created.data!.data.taskId;
    const read = await client.GET("/v1/tasks/{taskId}", { params: { path: { taskId } } });
    expect(read.data).toMatchObject({ id: taskId, model: "nano-banana-2", status: "pending" });

    const quote = await client.POST("/v1/cost", {
      body: { model: "nano-banana-2", input: { prompt: "a typed cat", resolution: "2K" } },
    });
    expect(quote.data?.data.credits).toBe(24);
    const listed = await client.GET("/v1/models");
    expect(listed.data?.data.models).toHaveLength(17);

    const refused = await client.POST("/v1/images/generations", {
      body: { model: "nano-banana-2", input: { prompt: "" } },
    });
    expect(refused.response.status).toBe(400);
    expect(refused.error?.error.code).toBe("invalid_request");
  });

  it("creates and reads through a door (revid, x-api-key)", async () => {
    const client = createClient<paths>({
      baseUrl: stack.apiUrl,
      headers: { "x-api-key": key },
    });
    const created = await client.POST("/paid/nano/banana/create", {
      body: { model: "nano-banana-pro", input: { prompt: "a typed boat" } },
    });
    expect(created.response.status).toBe(200);
    const taskId = created.data!.data.taskId;
    const read = await client.POST("/paid/get/taskid", { params: { query: { taskId } } });
    expect(read.data?.data).toMatchObject({ taskId, state: "waiting" });
  });
});

describe("GET /docs", () => {
  it("is an HTML page whose every asset is served here", async () => {
    const page = await fetch(`${stack.apiUrl}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      // Local only: a path on this server, never another host.
      expect(asset.startsWith("/") && !asset.startsWith("//"), asset).toBe(true);
      const response = await fetch(`${stack.apiUrl}${asset}`);
      expect(response.status, asset).toBe(200);
      const text = await response.text();
      expect(text.length, asset).toBeGreaterThan(0);
    }
    const init = await (await fetch(`${stack.apiUrl}/docs/init.js`)).text();
    expect(init).toContain('url: "/openapi.json"');
    expect(init).toContain("validatorUrl: null");
    expect(init).not.toMatch(/https?:\/\//);
  });
});
