import { z } from "zod";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import { bearerOperation, json, nativeErrorsWith } from "./openapi-parts";
import {
  keyCreatedResponse,
  keyCreateRequest,
  keyListResponse,
  keyResponse,
  keyRotatedResponse,
  keyRotateRequest,
} from "./v1_keys";

const errorText: Record<string, string> = {
  "400": "invalid_request: the field at fault is named",
  "401": "invalid_api_key",
  "403": "key_expired, account_disabled, ip_not_allowed, or insufficient_scope (a read key)",
  "404": "no such key in this account",
  "429": "rate_limit_exceeded (Retry-After)",
};
const errors = nativeErrorsWith(errorText);

const keyOperation = bearerOperation("Native API");

const keyIdPath = { path: z.object({ keyId: z.string().meta({ example: "key_01j…" }) }) };

/** `/v1/keys`: the account's own API keys (see routes/v1_keys.ts). */
export const keyPaths: ZodOpenApiPathsObject = {
  "/v1/keys": {
    get: keyOperation({
      summary: "The account's API keys (never their secret)",
      responses: { "200": json(keyListResponse, "The keys"), ...errors("401", "403", "429") },
    }),
    post: keyOperation({
      summary: "Create an API key (its plaintext is in this answer only)",
      requestBody: { content: { "application/json": { schema: keyCreateRequest } } },
      responses: {
        "200": json(keyCreatedResponse, "The new key"),
        ...errors("400", "401", "403", "429"),
      },
    }),
  },
  "/v1/keys/{keyId}": {
    get: keyOperation({
      summary: "One of the account's API keys",
      requestParams: keyIdPath,
      responses: { "200": json(keyResponse, "The key"), ...errors("401", "403", "404", "429") },
    }),
    delete: keyOperation({
      summary: "Revoke an API key (refused from now on)",
      requestParams: keyIdPath,
      responses: {
        "200": json(keyResponse, "The revoked key"),
        ...errors("401", "403", "404", "429"),
      },
    }),
  },
  "/v1/keys/{keyId}/revoke": {
    post: keyOperation({
      summary: "Revoke an API key (as DELETE)",
      requestParams: keyIdPath,
      responses: {
        "200": json(keyResponse, "The revoked key"),
        ...errors("401", "403", "404", "429"),
      },
    }),
  },
  "/v1/keys/{keyId}/rotate": {
    post: keyOperation({
      summary:
        "Rotate an API key: a new key, same settings; the old one works `overlap_seconds` more",
      requestParams: keyIdPath,
      requestBody: { content: { "application/json": { schema: keyRotateRequest } } },
      responses: {
        "200": json(keyRotatedResponse, "The new key and the old one's new expiry"),
        ...errors("400", "401", "403", "404", "429"),
      },
    }),
  },
};
