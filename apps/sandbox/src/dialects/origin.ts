import type { Request } from "express";

/**
 * Where a request reached the sandbox, without the dialect's mount: the base result files are
 * named from when no public URL is configured.
 */
export function originOf(req: Request): string {
  const mount = req.baseUrl.replace(/\/[^/]+$/, "");
  return `${req.protocol}://${req.get("host")}${mount}`;
}
