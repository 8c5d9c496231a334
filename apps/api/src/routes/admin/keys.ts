import {
  ApiKeyNotFound,
  createApiKey,
  getAccountView,
  isIdOf,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
} from "@ripen/core";
import type { Request } from "express";
import { keyCreateRequest, keyJson, keyRotateRequest } from "../v1_keys";
import { logChange } from "./accounts";
import type { RegisterAdminRoutes } from "./deps";
import { accountIdOf, bodyOf, ok } from "./shared";

/** A key id `newId` could not have made is not found, unqueried (as an id of another account's). */
function keyIdOf(req: Request): string {
  const keyId = req.params.keyId as string;
  if (!isIdOf("apiKey", keyId)) throw new ApiKeyNotFound(keyId);
  return keyId;
}

/**
 * Any account's keys (`/admin/v1/accounts/{id}/keys`): create (plaintext shown once), list,
 * revoke, rotate, with the bodies and answers of a client's own `/v1/keys` (v1_keys.ts), but any
 * scope (`admin` included) and any account.
 */
export const registerAdminKeys: RegisterAdminRoutes = (router, callerOf, deps) => {
  router.post("/accounts/:accountId/keys", async (req, res) => {
    const accountId = accountIdOf(req);
    const body = bodyOf(keyCreateRequest, req);
    // A missing account is a 404, not a foreign-key failure.
    await getAccountView(deps.db, accountId, deps.clock.now());
    const created = await createApiKey(
      deps.db,
      {
        accountId,
        name: body.name,
        scopes: body.scopes,
        expiresAt: body.expires_at == null ? null : new Date(body.expires_at * 1000),
        ipAllowlist: body.ip_allowlist,
        rateLimitPerMinute: body.rate_limit_per_minute,
        spendLimits: {
          hourly: body.spend_limit_hourly,
          daily: body.spend_limit_daily,
          total: body.spend_limit_total,
        },
      },
      deps.clock.now(),
    );
    logChange(deps, callerOf(req).actor, "key.created", { accountId, keyId: created.keyId });
    res.json(ok({ ...keyJson(created.key), key: created.apiKey }));
  });

  router.get("/accounts/:accountId/keys", async (req, res) => {
    const accountId = accountIdOf(req);
    await getAccountView(deps.db, accountId, deps.clock.now());
    const keys = await listApiKeys(deps.db, accountId, deps.clock.now());
    res.json(ok({ keys: keys.map(keyJson) }));
  });

  router.post("/accounts/:accountId/keys/:keyId/revoke", async (req, res) => {
    const accountId = accountIdOf(req);
    const key = await revokeApiKey(deps.db, {
      accountId,
      keyId: keyIdOf(req),
      now: deps.clock.now(),
    });
    logChange(deps, callerOf(req).actor, "key.revoked", { accountId, keyId: key.id });
    res.json(ok(keyJson(key)));
  });

  router.post("/accounts/:accountId/keys/:keyId/rotate", async (req, res) => {
    const accountId = accountIdOf(req);
    const body = bodyOf(keyRotateRequest, req);
    const rotated = await rotateApiKey(deps.db, {
      accountId,
      keyId: keyIdOf(req),
      overlapSeconds: body.overlap_seconds,
      now: deps.clock.now(),
    });
    logChange(deps, callerOf(req).actor, "key.rotated", {
      accountId,
      keyId: rotated.previous.id,
      newKeyId: rotated.keyId,
    });
    res.json(
      ok({ ...keyJson(rotated.key), key: rotated.apiKey, previous: keyJson(rotated.previous) }),
    );
  });
};
