import {
  ApiKeyNotFound,
  type ApiKeyView,
  type Clock,
  createApiKey,
  getApiKey,
  InsufficientScope,
  InvalidRequest,
  invalidFromZod,
  isIdOf,
  listApiKeys,
  type Principal,
  ROTATION_OVERLAP_DEFAULT_SECONDS,
  ROTATION_OVERLAP_MAX_SECONDS,
  revokeApiKey,
  rotateApiKey,
  storableString,
} from "@ripen/core";
import { apiKeyScopes, type Executor } from "@ripen/db";
import { WireError } from "@ripen/dialect-aivideoapi";
import type { Request, Response, Router } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { orUnavailable } from "../doors/database-down";
import { nativeEnvelope, unixTime } from "./envelope";

const IP_ALLOWLIST_MAX_ENTRIES = 100;
const KEY_NAME_MAX_CHARS = 100;

const limit = z.int().min(1).max(2_147_483_647).nullable().optional();
const creditLimit = z.int().min(1).max(Number.MAX_SAFE_INTEGER).nullable().optional();

/** `POST /v1/keys`: every field optional; the new key has at most the caller's scopes. */
export const keyCreateRequest = z
  .strictObject({
    name: storableString()
      .refine((s) => s.trim().length > 0, "must not be empty")
      .refine((s) => [...s].length <= KEY_NAME_MAX_CHARS, "must be at most 100 characters")
      .optional(),
    scopes: z
      .array(z.enum(apiKeyScopes))
      .min(1)
      .optional()
      .meta({ description: "Default `read` and `write`; at most the calling key's own" }),
    expires_at: unixTime.nullable().optional().meta({ description: "Unix seconds; null: never" }),
    ip_allowlist: z
      .array(z.string().max(64))
      .max(IP_ALLOWLIST_MAX_ENTRIES)
      .nullable()
      .optional()
      .meta({ description: "CIDRs or addresses, IPv4 or IPv6; null: any address" }),
    rate_limit_per_minute: limit.meta({ description: "Null: the deployment's default (60)" }),
    spend_limit_hourly: creditLimit,
    spend_limit_daily: creditLimit,
    spend_limit_total: creditLimit,
  })
  .meta({ id: "KeyCreateRequest" });

/** `POST /v1/keys/{keyId}/rotate`. */
export const keyRotateRequest = z
  .strictObject({
    overlap_seconds: z
      .int()
      .min(0)
      .max(ROTATION_OVERLAP_MAX_SECONDS)
      .optional()
      .meta({
        description: `How long the old key keeps working (default ${ROTATION_OVERLAP_DEFAULT_SECONDS}, 24 h; at most 7 days)`,
      }),
  })
  .meta({ id: "KeyRotateRequest" });

export const keyData = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().meta({ description: "The key's first characters" }),
    scopes: z.array(z.enum(apiKeyScopes)),
    status: z.enum(["active", "expired", "revoked"]),
    expires_at: unixTime.nullable(),
    ip_allowlist: z.array(z.string()).nullable(),
    rate_limit_per_minute: z.int().nullable(),
    spend_limit_hourly: z.int().nullable(),
    spend_limit_daily: z.int().nullable(),
    spend_limit_total: z.int().nullable(),
    rotated_to_id: z.string().nullable(),
    revoked_at: unixTime.nullable(),
    created_at: unixTime,
  })
  .meta({ id: "ApiKey" });

const plaintext = z.string().meta({ description: "The key itself, `sk-…`: shown only here" });

export const keyResponse = nativeEnvelope(keyData).meta({ id: "KeyResponse" });
export const keyListResponse = nativeEnvelope(z.object({ keys: z.array(keyData) })).meta({
  id: "KeyListResponse",
});
export const keyCreatedResponse = nativeEnvelope(keyData.extend({ key: plaintext })).meta({
  id: "KeyCreatedResponse",
});
export const keyRotatedResponse = nativeEnvelope(
  keyData.extend({ key: plaintext, previous: keyData }),
).meta({ id: "KeyRotatedResponse" });

const unixSeconds = (date: Date) => Math.floor(date.getTime() / 1000);
const unixOrNull = (date: Date | null) => (date ? unixSeconds(date) : null);

/** A key as its account (or the admin API) sees it: never its hash or plaintext. */
export function keyJson(view: ApiKeyView): z.input<typeof keyData> {
  return {
    id: view.id,
    name: view.name,
    prefix: view.prefix,
    scopes: view.scopes,
    status: view.status,
    expires_at: unixOrNull(view.expiresAt),
    ip_allowlist: view.ipAllowlist,
    rate_limit_per_minute: view.rateLimitPerMinute,
    spend_limit_hourly: view.spendLimits.hourly,
    spend_limit_daily: view.spendLimits.daily,
    spend_limit_total: view.spendLimits.total,
    rotated_to_id: view.rotatedToId,
    revoked_at: unixOrNull(view.revokedAt),
    created_at: unixSeconds(view.createdAt),
  };
}

function bodyOf<T extends z.ZodType>(schema: T, req: Request): z.infer<T> {
  const body = (req.body as unknown) ?? {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidRequest("Request body must be a JSON object.");
  }
  const parsed = schema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw invalidFromZod(parsed.error);
  return parsed.data;
}

/** The caller's own key `keyId`, else a 404: another account's key reads as missing. */
async function ownKey<T>(req: Request, work: (keyId: string) => Promise<T>): Promise<T> {
  const keyId = req.params.keyId as string;
  try {
    if (!isIdOf("apiKey", keyId)) throw new ApiKeyNotFound(keyId);
    return await orUnavailable(() => work(keyId));
  } catch (error) {
    if (error instanceof ApiKeyNotFound) {
      throw new WireError("invalid_request", error.message, 404);
    }
    throw error;
  }
}

/** A key may hand out only what it has: asking for another scope is the caller's 403. */
function checkWithinCallerScopes(principal: Principal, scopes: readonly string[]): void {
  const missing = scopes.find((scope) => !principal.scopes.includes(scope as never));
  if (missing !== undefined) throw new InsufficientScope(missing);
}

/**
 * The account's own API keys: `GET /v1/keys` (read), `POST /v1/keys` (the plaintext is in this
 * answer only), `GET /v1/keys/{id}`, `DELETE /v1/keys/{id}` and `POST /v1/keys/{id}/revoke`
 * (refused at once by this process, by the others within the key cache's 5 s), and
 * `POST /v1/keys/{id}/rotate` (a new key with the same settings; the old one works for
 * `overlap_seconds` more). Changes need the `write` scope (admission's table), and a key never
 * creates or rotates into scopes it lacks itself.
 */
export function registerV1Keys(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: { db: Executor; clock: Clock; logger: Logger },
): void {
  router.get("/v1/keys", async (req, res) => {
    const { accountId } = principalOf(req);
    const keys = await orUnavailable(() => listApiKeys(deps.db, accountId, deps.clock.now()));
    res.json({ code: 200, msg: "success", data: { keys: keys.map(keyJson) } } satisfies z.input<
      typeof keyListResponse
    >);
  });

  router.post("/v1/keys", async (req, res) => {
    const principal = principalOf(req);
    const body = bodyOf(keyCreateRequest, req);
    const now = deps.clock.now();
    checkWithinCallerScopes(principal, body.scopes ?? ["read", "write"]);
    const expiresAt =
      body.expires_at === undefined || body.expires_at === null
        ? null
        : new Date(body.expires_at * 1000);
    if (expiresAt && expiresAt <= now) {
      throw new InvalidRequest("'expires_at' must be in the future.", "expires_at");
    }
    const created = await orUnavailable(() =>
      createApiKey(
        deps.db,
        {
          accountId: principal.accountId,
          name: body.name,
          scopes: body.scopes,
          expiresAt,
          ipAllowlist: body.ip_allowlist,
          rateLimitPerMinute: body.rate_limit_per_minute,
          spendLimits: {
            hourly: body.spend_limit_hourly,
            daily: body.spend_limit_daily,
            total: body.spend_limit_total,
          },
        },
        now,
      ),
    );
    deps.logger.info(
      { event: "api_key.created", accountId: principal.accountId, keyId: created.keyId },
      "api key created",
    );
    res.json({
      code: 200,
      msg: "success",
      data: { ...keyJson(created.key), key: created.apiKey },
    } satisfies z.input<typeof keyCreatedResponse>);
  });

  router.get("/v1/keys/:keyId", async (req, res) => {
    const { accountId } = principalOf(req);
    const view = await ownKey(req, (keyId) =>
      getApiKey(deps.db, { accountId, keyId }, deps.clock.now()),
    );
    res.json({ code: 200, msg: "success", data: keyJson(view) } satisfies z.input<
      typeof keyResponse
    >);
  });

  const revoke = async (req: Request, res: Response) => {
    const { accountId, keyId: callerKeyId } = principalOf(req);
    const view = await ownKey(req, (keyId) =>
      revokeApiKey(deps.db, { accountId, keyId, now: deps.clock.now() }),
    );
    deps.logger.info(
      { event: "api_key.revoked", accountId, keyId: view.id, by: callerKeyId },
      "api key revoked",
    );
    res.json({ code: 200, msg: "success", data: keyJson(view) } satisfies z.input<
      typeof keyResponse
    >);
  };
  router.delete("/v1/keys/:keyId", revoke);
  router.post("/v1/keys/:keyId/revoke", revoke);

  router.post("/v1/keys/:keyId/rotate", async (req, res) => {
    const principal = principalOf(req);
    const body = bodyOf(keyRotateRequest, req);
    const now = deps.clock.now();
    const rotated = await ownKey(req, async (keyId) => {
      // The new key's plaintext goes to the caller: it must hold every scope of the key rotated.
      const target = await getApiKey(deps.db, { accountId: principal.accountId, keyId }, now);
      checkWithinCallerScopes(principal, target.scopes);
      return rotateApiKey(deps.db, {
        accountId: principal.accountId,
        keyId,
        overlapSeconds: body.overlap_seconds,
        now,
      });
    });
    deps.logger.info(
      {
        event: "api_key.rotated",
        accountId: principal.accountId,
        keyId: rotated.previous.id,
        rotatedToId: rotated.keyId,
      },
      "api key rotated",
    );
    res.json({
      code: 200,
      msg: "success",
      data: { ...keyJson(rotated.key), key: rotated.apiKey, previous: keyJson(rotated.previous) },
    } satisfies z.input<typeof keyRotatedResponse>);
  });
}
