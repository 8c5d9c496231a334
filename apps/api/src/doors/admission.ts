import {
  authenticateApiKey,
  type Clock,
  InsufficientScope,
  IpNotAllowed,
  isAddressAllowed,
  type Principal,
  RateLimitExceeded,
} from "@ripen/core";
import type { ApiKeyScope, Executor } from "@ripen/db";
import type { Request } from "express";
import proxyAddr from "proxy-addr";
import type { RequestRateLimiter } from "./rate-limit";

/**
 * Requests that change nothing although their method is not GET or HEAD: a `read` key may send
 * them. Every other POST, PATCH, PUT and DELETE of every door needs `write`. Paths are compared
 * lowercased without a trailing slash, as Express routes them.
 */
export const readOnlyPosts: ReadonlySet<string> = new Set([
  "POST /v1/cost",
  "POST /api/v1/account/calculate-cost",
  "POST /paid/get/taskid",
]);

const readMethods = new Set(["GET", "HEAD", "OPTIONS"]);

/** The scope a request needs: `read` for GET, HEAD and the read-only POSTs, else `write`. */
export function requiredScope(method: string, path: string): "read" | "write" {
  if (readMethods.has(method)) return "read";
  const normalized = path.toLowerCase().replace(/\/+$/, "");
  return readOnlyPosts.has(`${method} ${normalized}`) ? "read" : "write";
}

/** `write` includes reading: a write key reads its own tasks. `admin` alone opens no client door. */
function grants(scopes: readonly ApiKeyScope[], needed: "read" | "write"): boolean {
  return scopes.includes(needed) || (needed === "read" && scopes.includes("write"));
}

/** What admission is built from beside the doors' deps. */
export interface Admission {
  rateLimiter: RequestRateLimiter;
  /** The caller's address: the socket's, or X-Forwarded-For's walked from a trusted proxy. */
  clientAddress(req: Request): string;
}

/**
 * `trustedProxies` (TRUSTED_PROXIES): CIDRs or addresses whose X-Forwarded-For is believed. The
 * client is the rightmost address not trusted, so a client cannot forge its own: hops it added
 * lie to the left of the first untrusted one. Without proxies the socket's address is the client.
 */
export function createAdmission(options: {
  rateLimiter: RequestRateLimiter;
  trustedProxies?: readonly string[];
}): Admission {
  const trust = proxyAddr.compile([...(options.trustedProxies ?? [])]);
  return {
    rateLimiter: options.rateLimiter,
    clientAddress: (req) => proxyAddr(req, trust),
  };
}

/**
 * Every door's authentication: the key (unknown or revoked: null, the door's 401; expired or its
 * account disabled: 403), then its IP allowlist, its request rate (RateLimit-* headers on the
 * answer, 429 past the limit) and the scope the request needs. Errors are domain errors each
 * door renders in its own envelope.
 */
export async function admitRequest(
  deps: { db: Executor; clock: Clock; admission: Admission },
  apiKey: string,
  req: Request,
): Promise<Principal | null> {
  const key = await authenticateApiKey(deps.db, apiKey, deps.clock.now());
  if (!key) return null;
  if (key.ipAllowlist) {
    const address = deps.admission.clientAddress(req);
    if (!isAddressAllowed(key.ipAllowlist, address)) throw new IpNotAllowed(address);
  }
  // Counted before the scope check, so a key cannot probe write endpoints without limit.
  const rate = await deps.admission.rateLimiter.consume(key.keyId, key.rateLimitPerMinute);
  req.res?.set({
    "RateLimit-Limit": String(rate.limit),
    "RateLimit-Remaining": String(rate.remaining),
    "RateLimit-Reset": String(rate.resetSeconds),
  });
  if (!rate.allowed) throw new RateLimitExceeded(rate.limit, rate.resetSeconds);
  const needed = requiredScope(req.method, req.baseUrl + req.path);
  if (!grants(key.scopes, needed)) throw new InsufficientScope(needed);
  return { accountId: key.accountId, keyId: key.keyId, scopes: key.scopes };
}
