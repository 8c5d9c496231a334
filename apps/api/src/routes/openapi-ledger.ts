import type { ZodOpenApiPathsObject } from "zod-openapi";
import { bearerOperation, json, nativeErrorsWith } from "./openapi-parts";
import { ledgerStatementQuery, ledgerStatementResponse } from "./v1_credits_ledger";
import { usageQuerySchema, usageResponse } from "./v1_usage";

const errorText: Record<string, string> = {
  "400": "invalid_request: the parameter at fault is named",
  "401": "invalid_api_key",
  "403": "key_expired, account_disabled, ip_not_allowed, or insufficient_scope",
  "429": "rate_limit_exceeded (Retry-After)",
  "503": "service_unavailable: the database cannot be reached; retry",
};
const errors = nativeErrorsWith(errorText);

const readOperation = bearerOperation("Native API");

const csv = (description: string) => ({
  description,
  content: { "text/csv": { schema: { type: "string" as const } } },
});

/** The account's statement and usage (routes/v1_credits_ledger.ts, routes/v1_usage.ts). */
export const ledgerPaths: ZodOpenApiPathsObject = {
  "/v1/credits/ledger": {
    get: readOperation({
      summary: "The account's ledger, newest first (CSV: the whole range)",
      requestParams: { query: ledgerStatementQuery },
      responses: {
        "200": {
          description:
            "A page of entries; with `format=csv` or `Accept: text/csv`, every entry of the range as CSV (LedgerEntry's columns, times in RFC 3339)",
          content: {
            ...json(ledgerStatementResponse, "").content,
            ...csv("").content,
          },
        },
        ...errors("400", "401", "403", "429", "503"),
      },
    }),
  },
  "/v1/usage": {
    get: readOperation({
      summary: "The account's usage: tasks and credits charged, grouped",
      requestParams: { query: usageQuerySchema },
      responses: {
        "200": {
          description: "One row per group; CSV with `format=csv` or `Accept: text/csv`",
          content: { ...json(usageResponse, "").content, ...csv("").content },
        },
        ...errors("400", "401", "403", "429", "503"),
      },
    }),
  },
};
