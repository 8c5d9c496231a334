import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as aivideoapi from "@ripen/dialect-aivideoapi";
import * as kie from "@ripen/dialect-kie";
import * as nanobanana from "@ripen/dialect-nanobanana";
import * as revid from "@ripen/dialect-revid";
import express, { type Router } from "express";
import { z } from "zod";
import { createDocument, type ZodOpenApiPathsObject } from "zod-openapi";
import { adminPaths } from "./openapi-admin";
import { keyPaths } from "./openapi-keys";
import { ledgerPaths } from "./openapi-ledger";
import { errors, json, type Operation } from "./openapi-parts";
import {
  batchCreatedResponse,
  batchCreateRequest,
  batchListResponse,
  batchResponse,
  batchResultLine,
} from "./v1_batches";
import { costQuery, costRequest, costResponse } from "./v1_cost";
import { modelsResponse } from "./v1_models";
import {
  scheduleCreateRequest,
  scheduleDeletedResponse,
  scheduleListResponse,
  schedulePatchRequest,
  scheduleResponse,
  scheduleRunsResponse,
} from "./v1_schedules";
import { deliveriesResponse, redeliverResponse } from "./v1_tasks_deliveries";
import { taskHistoryResponse } from "./v1_tasks_history";
import { taskListQuery, taskListResponse } from "./v1_tasks_list";
import { webhookSecretResponse } from "./v1_webhook_secret";

// ---- Native API (the aivideoapi dialect's endpoints and Ripen's own) -----------------------

const nativeErrors = (...statuses: string[]) =>
  errors(
    aivideoapi.errorEnvelope,
    Object.fromEntries(
      statuses.map((s) => [s, nativeErrorText[s as keyof typeof nativeErrorText] ?? "Error"]),
    ),
  );
const nativeErrorText = {
  "400": "invalid_request: the field at fault is named",
  "401": "invalid_api_key",
  "402": "insufficient_credits",
  "404": "not found (task, model, batch, schedule, delivery)",
  "409": "conflict (task already ended, idempotency key reused, delivery pending)",
  "429":
    "rate_limit_exceeded, spend_limit_exceeded, active_task_limit_exceeded, or capacity_exceeded (no provider can start it before its deadline); Retry-After says when",
  "503": "service_unavailable or upstream_error; Retry-After says when to retry",
};

const taskIdPath = { path: z.object({ taskId: z.string().meta({ example: "task_01j…" }) }) };
const batchIdPath = { path: z.object({ batchId: z.string() }) };
const scheduleIdPath = { path: z.object({ scheduleId: z.string() }) };
const idempotencyHeader = {
  header: z.object({
    "Idempotency-Key": z
      .string()
      .optional()
      .meta({ description: "Replays the first create's answer for 24 hours" }),
  }),
};

const native = (operation: Omit<Operation, "security" | "tags">): Operation => ({
  tags: ["Native API"],
  security: [{ bearer: [] }],
  ...operation,
});

const createOperation = (kind: "image" | "video"): Operation =>
  native({
    summary: `Create ${kind === "image" ? "an image" : "a video"} task`,
    requestParams: idempotencyHeader,
    requestBody: { content: { "application/json": { schema: aivideoapi.createTaskRequest } } },
    responses: {
      "200": json(aivideoapi.createTaskResponse, "The task was created and its price held"),
      ...nativeErrors("400", "401", "402", "404", "409", "429", "503"),
    },
  });

const nativePaths: ZodOpenApiPathsObject = {
  "/v1/images/generations": { post: createOperation("image") },
  "/v1/videos/generations": { post: createOperation("video") },
  "/v1/tasks": {
    get: native({
      summary: "List tasks, newest first",
      requestParams: { query: taskListQuery },
      responses: {
        "200": json(taskListResponse, "A page of tasks"),
        ...nativeErrors("400", "401"),
      },
    }),
  },
  "/v1/tasks/{taskId}": {
    get: native({
      summary: "Get a task (also the body of its callback)",
      requestParams: taskIdPath,
      responses: {
        "200": json(aivideoapi.taskResponse, "The task"),
        ...nativeErrors("401", "404"),
      },
    }),
  },
  "/v1/tasks/{taskId}/cancel": {
    post: native({
      summary: "Cancel a task and release its hold",
      requestParams: taskIdPath,
      responses: {
        "200": json(aivideoapi.taskResponse, "The task, failed with task_canceled"),
        ...nativeErrors("401", "404", "409"),
      },
    }),
  },
  "/v1/tasks/{taskId}/history": {
    get: native({
      summary: "A task's attempts and status changes",
      requestParams: taskIdPath,
      responses: { "200": json(taskHistoryResponse, "The history"), ...nativeErrors("401", "404") },
    }),
  },
  "/v1/tasks/{taskId}/events": {
    get: native({
      summary: "A task's status as server-sent events",
      requestParams: {
        ...taskIdPath,
        header: z.object({ "Last-Event-ID": z.string().optional() }),
      },
      responses: {
        "200": {
          description: "`event: status` per transition; data is the task query body",
          content: { "text/event-stream": { schema: z.string() } },
        },
        ...nativeErrors("400", "401", "404"),
      },
    }),
  },
  "/v1/tasks/{taskId}/deliveries": {
    get: native({
      summary: "A task's client callbacks and their tries",
      requestParams: taskIdPath,
      responses: {
        "200": json(deliveriesResponse, "The deliveries"),
        ...nativeErrors("401", "404"),
      },
    }),
  },
  "/v1/tasks/{taskId}/deliveries/redeliver": {
    post: native({
      summary: "Send a task's latest callback again",
      requestParams: taskIdPath,
      responses: {
        "200": json(redeliverResponse, "The delivery, pending"),
        ...nativeErrors("401", "404", "409"),
      },
    }),
  },
  "/v1/credits": {
    get: native({
      summary: "The account's credits",
      responses: { "200": json(aivideoapi.creditsResponse, "Credits"), ...nativeErrors("401") },
    }),
  },
  "/v1/webhook-secret": {
    get: native({
      summary: "The callback signing secret (created on first use)",
      responses: { "200": json(webhookSecretResponse, "The secret"), ...nativeErrors("401") },
    }),
  },
  "/v1/webhook-secret/rotate": {
    post: native({
      summary: "Rotate the callback signing secret (the old one signs for 24 h more)",
      responses: { "200": json(webhookSecretResponse, "The new secret"), ...nativeErrors("401") },
    }),
  },
  "/v1/batches": {
    post: native({
      summary: "Create a batch of up to 10,000 creates",
      requestParams: idempotencyHeader,
      requestBody: { content: { "application/json": { schema: batchCreateRequest } } },
      responses: {
        "200": json(batchCreatedResponse, "The batch, its items queued"),
        ...nativeErrors("400", "401", "402", "404", "409", "429"),
      },
    }),
    get: native({
      summary: "List batches, newest first",
      requestParams: {
        query: z.object({ limit: z.string().optional(), cursor: z.string().optional() }),
      },
      responses: {
        "200": json(batchListResponse, "A page of batches"),
        ...nativeErrors("400", "401"),
      },
    }),
  },
  "/v1/batches/{batchId}": {
    get: native({
      summary: "A batch's counts, credits and progress",
      requestParams: batchIdPath,
      responses: { "200": json(batchResponse, "The batch"), ...nativeErrors("401", "404") },
    }),
  },
  "/v1/batches/{batchId}/results": {
    get: native({
      summary: "A batch's results in submission order",
      requestParams: {
        ...batchIdPath,
        query: z.object({ format: z.enum(["jsonl", "csv"]).optional() }),
      },
      responses: {
        "200": {
          description: "One line per item",
          content: {
            "application/x-ndjson": { schema: batchResultLine },
            "text/csv": { schema: z.string() },
          },
        },
        ...nativeErrors("400", "401", "404"),
      },
    }),
  },
  "/v1/batches/{batchId}/events": {
    get: native({
      summary: "A batch's progress as server-sent events",
      requestParams: batchIdPath,
      responses: {
        "200": {
          description:
            "`event: batch` at once and whenever its counts or state change; data is the batch's (as `GET /v1/batches/{batchId}`). The stream ends after the event showing the batch ended.",
          content: { "text/event-stream": { schema: z.string() } },
        },
        ...nativeErrors("401", "404", "503"),
      },
    }),
  },
  "/v1/batches/{batchId}/cancel": {
    post: native({
      summary: "Cancel a batch's items that have not ended",
      requestParams: batchIdPath,
      responses: { "200": json(batchResponse, "The batch"), ...nativeErrors("401", "404") },
    }),
  },
  "/v1/schedules": {
    post: native({
      summary: "Create a schedule: a batch on a cron",
      requestBody: { content: { "application/json": { schema: scheduleCreateRequest } } },
      responses: {
        "200": json(scheduleResponse, "The schedule"),
        ...nativeErrors("400", "401", "503"),
      },
    }),
    get: native({
      summary: "List schedules",
      responses: { "200": json(scheduleListResponse, "The schedules"), ...nativeErrors("401") },
    }),
  },
  "/v1/schedules/{scheduleId}": {
    get: native({
      summary: "Get a schedule",
      requestParams: scheduleIdPath,
      responses: { "200": json(scheduleResponse, "The schedule"), ...nativeErrors("401", "404") },
    }),
    patch: native({
      summary: "Change a schedule",
      requestParams: scheduleIdPath,
      requestBody: { content: { "application/json": { schema: schedulePatchRequest } } },
      responses: {
        "200": json(scheduleResponse, "The schedule"),
        ...nativeErrors("400", "401", "404", "503"),
      },
    }),
    delete: native({
      summary: "Delete a schedule (its runs and batches stay)",
      requestParams: scheduleIdPath,
      responses: {
        "200": json(scheduleDeletedResponse, "Deleted"),
        ...nativeErrors("401", "404", "503"),
      },
    }),
  },
  "/v1/schedules/{scheduleId}/pause": {
    post: native({
      summary: "Pause a schedule",
      requestParams: scheduleIdPath,
      responses: { "200": json(scheduleResponse, "The schedule"), ...nativeErrors("401", "404") },
    }),
  },
  "/v1/schedules/{scheduleId}/resume": {
    post: native({
      summary: "Resume a schedule",
      requestParams: scheduleIdPath,
      responses: { "200": json(scheduleResponse, "The schedule"), ...nativeErrors("401", "404") },
    }),
  },
  "/v1/schedules/{scheduleId}/runs": {
    get: native({
      summary: "A schedule's runs, newest first",
      requestParams: { ...scheduleIdPath, query: z.object({ limit: z.string().optional() }) },
      responses: {
        "200": json(scheduleRunsResponse, "The runs"),
        ...nativeErrors("400", "401", "404"),
      },
    }),
  },
  "/v1/models": {
    get: native({
      summary: "Every model: parameters, defaults, prices per door, providers",
      responses: { "200": json(modelsResponse, "The models"), ...nativeErrors("401") },
    }),
  },
  "/v1/cost": {
    post: native({
      summary: "The price of a create or batch body, without running it",
      requestParams: { query: costQuery },
      requestBody: { content: { "application/json": { schema: costRequest } } },
      responses: {
        "200": json(costResponse, "What it would hold"),
        ...nativeErrors("400", "401", "404"),
      },
    }),
  },
};

// ---- The doors: each dialect's own paths, wire schemas and envelope -------------------------

const nanobananaErrors = errors(nanobanana.errorEnvelope, {
  "400": "INVALID_REQUEST / INVALID_MODEL",
  "401": "UNAUTHORIZED",
  "402": "INSUFFICIENT_CREDITS",
  "404": "NOT_FOUND",
  "429": "RATE_LIMITED",
  "503": "service unavailable",
});
const nanobananaOperation = (operation: Omit<Operation, "security" | "tags">): Operation => ({
  tags: ["Nano Banana door"],
  security: [{ nanobananaBearer: [] }],
  ...operation,
  responses: { ...operation.responses, ...nanobananaErrors },
});
const nanobananaTaskId = { query: z.object({ task_id: z.string() }) };

const nanobananaPaths: ZodOpenApiPathsObject = {
  "/api/v1/images/generate": {
    post: nanobananaOperation({
      summary: "Generate images",
      requestBody: {
        content: { "application/json": { schema: nanobanana.imageGenerateRequest } },
      },
      responses: { "200": json(nanobanana.imageGenerateResponse, "The task") },
    }),
  },
  "/api/v1/images/status": {
    get: nanobananaOperation({
      summary: "An image task's status",
      requestParams: nanobananaTaskId,
      responses: { "200": json(nanobanana.imageStatusResponse, "The task") },
    }),
  },
  "/api/v1/videos/generate": {
    post: nanobananaOperation({
      summary: "Generate a video",
      requestBody: {
        content: { "application/json": { schema: nanobanana.videoGenerateRequest } },
      },
      responses: { "200": json(nanobanana.videoGenerateResponse, "The task") },
    }),
  },
  "/api/v1/videos/status": {
    get: nanobananaOperation({
      summary: "A video task's status",
      requestParams: nanobananaTaskId,
      responses: { "200": json(nanobanana.videoStatusResponse, "The task") },
    }),
  },
  "/api/v1/account/credits": {
    get: nanobananaOperation({
      summary: "The account's credits",
      responses: { "200": json(nanobanana.creditsResponse, "Credits") },
    }),
  },
  "/api/v1/account/calculate-cost": {
    post: nanobananaOperation({
      summary: "The price of a generate request",
      requestBody: {
        content: { "application/json": { schema: nanobanana.calculateCostRequest } },
      },
      responses: { "200": json(nanobanana.calculateCostResponse, "The price") },
    }),
  },
  "/api/v1/models": {
    get: nanobananaOperation({
      summary: "The door's models",
      responses: { "200": json(nanobanana.modelsResponse, "Models") },
    }),
  },
};

/**
 * Kie's error answer: its package types it as an interface only, and it is the Kie family's
 * `{code, msg, data: null}`, which revid's package holds as a schema.
 */
const kieFamilyErrors = (statuses: Record<string, string>) => errors(revid.errorEnvelope, statuses);

const kieOperation = (operation: Omit<Operation, "security" | "tags">): Operation => ({
  tags: ["Kie door"],
  security: [{ kieBearer: [] }],
  ...operation,
  responses: {
    ...operation.responses,
    ...kieFamilyErrors({
      "400": "bad request",
      "401": "unauthorized",
      "402": "insufficient credits",
      "404": "not found",
      "409": "active task limit",
      "422": "validation error",
      "429": "rate limited",
      "500": "server error",
    }),
  },
});

const kiePaths: ZodOpenApiPathsObject = {
  "/api/v1/jobs/createTask": {
    post: kieOperation({
      summary: "Create a task",
      requestBody: { content: { "application/json": { schema: kie.createTaskRequest } } },
      responses: { "200": json(kie.createTaskResponse, "The task") },
    }),
  },
  "/api/v1/jobs/recordInfo": {
    get: kieOperation({
      summary: "A task's record",
      requestParams: { query: z.object({ taskId: z.string() }) },
      responses: { "200": json(kie.recordInfoResponse, "The record") },
    }),
  },
};

const revidOperation = (operation: Omit<Operation, "security" | "tags">): Operation => ({
  tags: ["Revid door"],
  security: [{ revidApiKey: [] }],
  ...operation,
  responses: {
    ...operation.responses,
    ...kieFamilyErrors({
      "400": "bad request",
      "401": "unauthorized",
      "402": "insufficient credits",
      "404": "not found",
      "422": "validation error",
      "429": "rate limited",
      "500": "server error",
    }),
  },
});
const revidCreate = (summary: string) =>
  revidOperation({
    summary,
    requestBody: { content: { "application/json": { schema: revid.createTaskRequest } } },
    responses: { "200": json(revid.createTaskResponse, "The task") },
  });
const revidQuery = (method: string) =>
  revidOperation({
    summary: `A task's record (${method})`,
    requestParams: { query: z.object({ taskId: z.string() }) },
    responses: { "200": json(revid.queryTaskResponse, "The record (also the callback body)") },
  });

const revidPaths: ZodOpenApiPathsObject = {
  [revid.CREATE_PATH]: { post: revidCreate("Create a task") },
  [revid.CREATE_ALIAS_PATH]: { post: revidCreate("Create a task (the usage flow's path)") },
  [revid.QUERY_PATH]: { post: revidQuery("POST"), get: revidQuery("GET") },
};

/** The whole document, built from the routes' and dialects' own zod schemas. */
export function buildOpenApiDocument(): ReturnType<typeof createDocument> {
  return createDocument(
    {
      openapi: "3.1.0",
      info: {
        title: "Ripen",
        version: "1.0.0",
        description:
          "Asynchronous image and video generation. The native API, and front doors that speak the Nano Banana, Kie jobs and Revid APIs over the same accounts, credits and tasks.",
      },
      tags: [
        { name: "Native API" },
        { name: "Nano Banana door" },
        { name: "Kie door" },
        { name: "Revid door" },
      ],
      paths: {
        ...nativePaths,
        ...nanobananaPaths,
        ...kiePaths,
        ...revidPaths,
        ...keyPaths,
        ...ledgerPaths,
        ...adminPaths,
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", description: "A Ripen API key, `sk-…`" },
          nanobananaBearer: { type: "http", scheme: "bearer", description: "A Ripen API key" },
          kieBearer: { type: "http", scheme: "bearer", description: "A Ripen API key" },
          revidApiKey: { type: "apiKey", in: "header", name: "x-api-key" },
        },
      },
    },
    {
      // Transforms (kie's failCode to text) show their output as the JSON they become.
      allowEmptySchema: { custom: true, pipe: { output: true }, transform: { output: true } },
    },
  );
}

const require = createRequire(import.meta.url);
/** swagger-ui-dist's files, from node_modules: the page loads nothing from the network. */
const swaggerUiDir = dirname(require.resolve("swagger-ui-dist/package.json"));
const swaggerAssets = ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"];

const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Ripen API reference</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to an online validator.
const docsInit = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});
`;

/**
 * `GET /openapi.json` (OpenAPI 3.1, generated once from the zod schemas) and `GET /docs` (Swagger
 * UI served from node_modules). Public: no API key.
 */
export function openApiRouter(): Router {
  const router = express.Router();
  let document: string | undefined;
  router.get("/openapi.json", (_req, res) => {
    document ??= JSON.stringify(buildOpenApiDocument());
    res.type("application/json").send(document);
  });
  router.get(["/docs", "/docs/"], (_req, res) => {
    res.type("html").send(docsPage);
  });
  router.get("/docs/init.js", (_req, res) => {
    res.type("text/javascript").send(docsInit);
  });
  const assets = new Map(
    swaggerAssets.map((name) => [name, readFileSync(join(swaggerUiDir, name))] as const),
  );
  router.get("/docs/assets/:name", (req, res, next) => {
    const asset = assets.get(req.params.name);
    if (!asset) return next();
    res.type(req.params.name.endsWith(".css") ? "css" : "text/javascript");
    res.set("cache-control", "public, max-age=86400").send(asset);
  });
  return router;
}
