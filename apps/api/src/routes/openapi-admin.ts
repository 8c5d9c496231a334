import { z } from "zod";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import {
  accountListResponse,
  accountResponse,
  createAccountRequest,
  patchAccountRequest,
} from "./admin/accounts";
import { adjustmentRequest, creditMovementResponse, grantRequest } from "./admin/credits";
import { ledgerCheckResponse } from "./admin/ledger";
import {
  providerHealthResponse,
  queueDepthsResponse,
  sessionEndedResponse,
  sessionResponse,
} from "./admin/operations";
import {
  createPlanRequest,
  planListResponse,
  planResponse,
  startSubscriptionRequest,
  subscriptionListResponse,
  subscriptionResponse,
} from "./admin/plans";
import { bearerOperation, json, nativeErrorsWith } from "./openapi-parts";
import {
  keyCreatedResponse,
  keyCreateRequest,
  keyListResponse,
  keyResponse,
  keyRotatedResponse,
  keyRotateRequest,
} from "./v1_keys";
import { adminUsageQuerySchema, adminUsageResponse } from "./v1_usage";

const errorText: Record<string, string> = {
  "400": "invalid_request: the field at fault is named",
  "401": "invalid_api_key: no admin credential, or a wrong one",
  "403": "insufficient_scope: an API key without the admin scope",
  "404": "no such account, plan, subscription or key",
  "409":
    "a conflict with the current state (plan name taken, subscription active, adjustment below 0)",
  "503": "service_unavailable",
};
const errorsWith = nativeErrorsWith(errorText);
const errors = (...statuses: string[]) => errorsWith("401", "403", "503", ...statuses);

// The same bearer scheme: the admin token, or an API key with the `admin` scope.
const admin = bearerOperation("Admin API");

const body = (schema: z.ZodType) => ({ content: { "application/json": { schema } } });
const accountIdPath = { path: z.object({ accountId: z.string().meta({ example: "acct_01j…" }) }) };
const accountAndKey = { path: z.object({ accountId: z.string(), keyId: z.string() }) };

/** `/admin/v1`: the operator's API (see routes/admin/). */
export const adminPaths: ZodOpenApiPathsObject = {
  "/admin/v1/accounts": {
    post: admin({
      summary: "Create an account (no key; make one with the keys endpoint)",
      requestBody: body(createAccountRequest),
      responses: { "200": json(accountResponse, "The account"), ...errors("400") },
    }),
    get: admin({
      summary: "List accounts, newest first",
      requestParams: {
        query: z.object({ limit: z.string().optional(), cursor: z.string().optional() }),
      },
      responses: { "200": json(accountListResponse, "A page of accounts"), ...errors("400") },
    }),
  },
  "/admin/v1/accounts/{accountId}": {
    get: admin({
      summary: "An account: credits, active tasks, subscription, keys",
      requestParams: accountIdPath,
      responses: { "200": json(accountResponse, "The account"), ...errors("404") },
    }),
    patch: admin({
      summary: "Change an account's name, is_vip, max_active_tasks or disabled",
      requestParams: accountIdPath,
      requestBody: body(patchAccountRequest),
      responses: { "200": json(accountResponse, "The account"), ...errors("400", "404") },
    }),
  },
  "/admin/v1/accounts/{accountId}/disable": {
    post: admin({
      summary: "Disable an account: its keys are refused (403) on every door",
      requestParams: accountIdPath,
      responses: { "200": json(accountResponse, "The account"), ...errors("404") },
    }),
  },
  "/admin/v1/accounts/{accountId}/enable": {
    post: admin({
      summary: "Enable a disabled account",
      requestParams: accountIdPath,
      responses: { "200": json(accountResponse, "The account"), ...errors("404") },
    }),
  },
  "/admin/v1/accounts/{accountId}/grants": {
    post: admin({
      summary: "Grant credits (a ledger row with its reason and actor)",
      requestParams: accountIdPath,
      requestBody: body(grantRequest),
      responses: {
        "200": json(creditMovementResponse, "The account's credits after"),
        ...errors("400", "404"),
      },
    }),
  },
  "/admin/v1/accounts/{accountId}/adjustments": {
    post: admin({
      summary: "Adjust credits by a signed amount; never below 0 available",
      requestParams: accountIdPath,
      requestBody: body(adjustmentRequest),
      responses: {
        "200": json(creditMovementResponse, "The account's credits after"),
        ...errors("400", "404", "409"),
      },
    }),
  },
  "/admin/v1/plans": {
    post: admin({
      summary: "Create a plan",
      requestBody: body(createPlanRequest),
      responses: { "200": json(planResponse, "The plan"), ...errors("400", "409") },
    }),
    get: admin({
      summary: "List plans",
      responses: { "200": json(planListResponse, "Every plan"), ...errors() },
    }),
  },
  "/admin/v1/accounts/{accountId}/subscriptions": {
    post: admin({
      summary: "Start a subscription; grants the plan's first month now",
      requestParams: accountIdPath,
      requestBody: body(startSubscriptionRequest),
      responses: {
        "200": json(subscriptionResponse, "The subscription"),
        ...errors("400", "404", "409"),
      },
    }),
    get: admin({
      summary: "The account's subscriptions, newest first",
      requestParams: accountIdPath,
      responses: { "200": json(subscriptionListResponse, "Its subscriptions"), ...errors() },
    }),
  },
  "/admin/v1/accounts/{accountId}/subscriptions/{subscriptionId}/cancel": {
    post: admin({
      summary: "Cancel a subscription now",
      requestParams: { path: z.object({ accountId: z.string(), subscriptionId: z.string() }) },
      responses: { "200": json(subscriptionResponse, "The subscription"), ...errors("404") },
    }),
  },
  "/admin/v1/accounts/{accountId}/keys": {
    post: admin({
      summary: "Create a key for the account (any scope; the plaintext is in this answer only)",
      requestParams: accountIdPath,
      requestBody: body(keyCreateRequest),
      responses: { "200": json(keyCreatedResponse, "The new key"), ...errors("400", "404") },
    }),
    get: admin({
      summary: "The account's keys",
      requestParams: accountIdPath,
      responses: { "200": json(keyListResponse, "Its keys"), ...errors("404") },
    }),
  },
  "/admin/v1/accounts/{accountId}/keys/{keyId}/revoke": {
    post: admin({
      summary: "Revoke a key",
      requestParams: accountAndKey,
      responses: { "200": json(keyResponse, "The key"), ...errors("404") },
    }),
  },
  "/admin/v1/accounts/{accountId}/keys/{keyId}/rotate": {
    post: admin({
      summary: "Rotate a key (the old one works for overlap_seconds more)",
      requestParams: accountAndKey,
      requestBody: body(keyRotateRequest),
      responses: { "200": json(keyRotatedResponse, "The new key"), ...errors("400", "404") },
    }),
  },
  "/admin/v1/usage": {
    get: admin({
      summary: "Usage of every account: tasks, credits charged, upstream cost and margin",
      description:
        "Grouped by day, account, model, door, key or provider (`group_by`), over tasks created in [from, to). `format=csv` (or `Accept: text/csv`) answers CSV.",
      requestParams: { query: adminUsageQuerySchema },
      responses: { "200": json(adminUsageResponse, "Usage rows"), ...errors("400") },
    }),
  },
  "/admin/v1/ledger/check": {
    get: admin({
      summary: "The ledger's invariants over the whole database, and each drift",
      description:
        "What `ripen ledger check` prints. Drift is an answer, not an error: the response is 200 with each drift's rule and rows.",
      responses: { "200": json(ledgerCheckResponse, "The check") },
    }),
  },
  "/admin/v1/providers": {
    get: admin({
      summary: "Each provider's circuit, pause, limits, tasks in flight and last 15 minutes",
      description:
        "Attempts started in the last 15 minutes: how many, the share that failed, start-to-end latency (p50, p95) and each provider's share of all attempts.",
      responses: { "200": json(providerHealthResponse, "Every declared provider") },
    }),
  },
  "/admin/v1/queues": {
    get: admin({
      summary: "Jobs per state of each queue, the oldest waiting job's age, and the board's URL",
      responses: { "200": json(queueDepthsResponse, "Every queue") },
    }),
  },
  "/admin/v1/session": {
    post: admin({
      summary:
        "Set the queue board's session cookie (HttpOnly, SameSite=Strict, Path=/admin, 12 h)",
      responses: { "200": json(sessionResponse, "The board's URL and when the session ends") },
    }),
    delete: admin({
      summary: "Clear the queue board's session cookie",
      responses: { "200": json(sessionEndedResponse, "Signed out of the board") },
    }),
  },
};
