import type { NextFunction, Request, Response, Router } from "express";

/** How a dialect's server reads and judges the caller's API key. */
export interface RequestAuthentication<Principal> {
  /** The key as the dialect sends it (a Bearer token, `x-api-key`), or null when absent. */
  keyOf(req: Request): string | null;
  /** The key's caller, or null when it is refused. */
  authenticate(apiKey: string, req: Request): Promise<Principal | null>;
  /** The dialect's 401, for a missing key and for a refused one. */
  missing(): Error;
  refused(): Error;
}

/**
 * Authenticates every request of `router` before anything else reads it (the body included, so
 * an anonymous caller cannot make the server read a large one), and returns how a handler gets
 * the caller. Errors go to the router's error handler, in the dialect's envelope.
 */
export function authenticateRequests<Principal>(
  router: Router,
  auth: RequestAuthentication<Principal>,
): (req: Request) => Principal {
  const principals = new WeakMap<Request, Principal>();
  router.use(async (req: Request, _res: Response, next: NextFunction) => {
    try {
      const apiKey = auth.keyOf(req);
      if (apiKey === null) throw auth.missing();
      const principal = await auth.authenticate(apiKey, req);
      if (principal === null) throw auth.refused();
      principals.set(req, principal);
      next();
    } catch (error) {
      next(error);
    }
  });
  return (req) => principals.get(req) as Principal;
}

/**
 * Kie-like servers may answer errors as HTTP 200 with the code in the body. A function is read
 * on every error, so a simulator can switch it at run time.
 */
export type ErrorsAsHttp200 = boolean | (() => boolean);

export const readErrorsAsHttp200 = (option: ErrorsAsHttp200 | undefined): boolean =>
  typeof option === "function" ? option() : option === true;
