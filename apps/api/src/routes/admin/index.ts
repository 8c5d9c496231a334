import { timingSafeEqual } from "node:crypto";
import {
  authenticateApiKey,
  Conflict,
  DomainError,
  InsufficientScope,
  IpNotAllowed,
  isAddressAllowed,
  isDatabaseUnavailable,
  ServiceUnavailable,
} from "@ripen/core";
import { toWireError, WireError } from "@ripen/dialect-aivideoapi";
import { authenticateRequests, bearerToken } from "@ripen/dialect-kit";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { registerAdminAccounts } from "./accounts";
import { registerAdminCredits } from "./credits";
import type { AdminCaller, AdminDeps } from "./deps";
import { registerAdminKeys } from "./keys";
import { registerAdminLedger } from "./ledger";
import { createQueueBoard, registerAdminOperations } from "./operations";
import { registerAdminPlans } from "./plans";
import { registerAdminUsage } from "./usage";

/**
 * Registers every admin endpoint, after the admin authentication and body parsing. One route
 * file per area; a new one adds its line here.
 */
function registerAdminRoutes(
  router: Router,
  callerOf: (req: Request) => AdminCaller,
  deps: AdminDeps,
): void {
  registerAdminAccounts(router, callerOf, deps);
  registerAdminCredits(router, callerOf, deps);
  registerAdminPlans(router, callerOf, deps);
  registerAdminKeys(router, callerOf, deps);
  registerAdminUsage(router, callerOf, deps);
  registerAdminLedger(router, callerOf, deps);
  registerAdminOperations(router, callerOf, deps);
}

const ADMIN_TOKEN_ACTOR = "admin-token";

/** Constant-time comparison; lengths differ only for a wrong token, which may leak its length. */
function isAdminToken(presented: string, adminToken: string | undefined): boolean {
  if (!adminToken) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(adminToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The admin API, mounted at `/admin/v1`: `Authorization: Bearer <ADMIN_TOKEN>` or an API key with
 * the `admin` scope (a client key is a 403, no key a 401). Errors in the native API's envelope.
 */
/** The operator behind a Bearer credential: the admin token, or an admin-scope key. */
function adminCaller(deps: AdminDeps) {
  return async (presented: string, req: Request): Promise<AdminCaller | null> => {
    if (isAdminToken(presented, deps.adminToken)) return { actor: ADMIN_TOKEN_ACTOR };
    const principal = await authenticateApiKey(deps.db, presented, deps.clock.now());
    if (!principal) return null;
    // An admin key's allowlist binds here as on the doors (its request rate is not counted).
    if (principal.ipAllowlist) {
      const address = deps.admission.clientAddress(req);
      if (!isAddressAllowed(principal.ipAllowlist, address)) throw new IpNotAllowed(address);
    }
    if (!principal.scopes.includes("admin")) throw new InsufficientScope("admin");
    return { actor: principal.keyId };
  };
}

/** The queue board at `/admin/queues`, behind the same credential as the admin API. */
export function createAdminQueueBoard(deps: AdminDeps): Router {
  const authenticate = adminCaller(deps);
  return createQueueBoard(deps, deps.operations?.queues ?? [], async (req) => {
    const presented = bearerToken(req.get("authorization"));
    return presented ? (await authenticate(presented, req)) !== null : false;
  });
}

export function createAdminRouter(deps: AdminDeps): Router {
  const router = express.Router();
  const callerOf = authenticateRequests<AdminCaller>(router, {
    keyOf: (req) => bearerToken(req.get("authorization")),
    authenticate: adminCaller(deps),
    missing: () =>
      new WireError(
        "invalid_api_key",
        "Missing admin credential. Send 'Authorization: Bearer <ADMIN_TOKEN>' or an admin-scope key.",
      ),
    refused: () => new WireError("invalid_api_key", "Admin credential is invalid."),
  });
  router.use(express.json({ limit: "1mb", type: () => true, strict: false }));

  registerAdminRoutes(router, callerOf, deps);

  router.use((req: Request) => {
    throw new WireError("invalid_request", `No endpoint ${req.method} ${req.originalUrl}.`, 404);
  });
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, body, headers, unexpected } = adminWireError(error);
    if (unexpected)
      deps.logger.error(
        { err: error, method: req.method, url: req.originalUrl },
        "unexpected error",
      );
    res.status(status).set(headers).json(body);
  });
  return router;
}

/**
 * The native renderer, and what only the admin API throws: a missing account, plan, key or
 * subscription is a 404, a conflict with the current state (a name taken, an adjustment beyond
 * what is available) a 409, both under the native `invalid_request` code; a database that cannot
 * be reached is a 503 whichever route met it.
 */
function adminWireError(error: unknown): ReturnType<typeof toWireError> {
  if (isDatabaseUnavailable(error)) {
    return toWireError(
      new ServiceUnavailable(
        "The service is temporarily unavailable (its database cannot be reached). Please retry shortly.",
      ),
    );
  }
  const wire = toWireError(error);
  if (!wire.unexpected || !(error instanceof DomainError)) return wire;
  if (error instanceof Conflict) {
    return toWireError(new WireError("invalid_request", error.message, 409));
  }
  if (error.code.endsWith("_not_found")) {
    return toWireError(new WireError("invalid_request", error.message, 404));
  }
  return wire;
}
