import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export type Log = (message: string) => void;

/** The monorepo root (this file is packages/infra/src/local.ts). */
export function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
}

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** Only servers on this machine may be started for the caller; anything else is theirs to run. */
export function isLocalHost(hostname: string): boolean {
  return LOCAL_HOSTS.has(hostname.toLowerCase());
}

/** URL hostnames keep IPv6 brackets; sockets and server flags want them without. */
export function bareHost(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, "$1");
}

/**
 * True when nothing listens at the address. Node reports a failed dual-stack connect
 * ("localhost" → ::1 and 127.0.0.1) as an AggregateError, so nested errors count too.
 */
export function isConnectionRefused(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, errors, cause } = error as { code?: unknown; errors?: unknown; cause?: unknown };
  if (code === "ECONNREFUSED") return true;
  if (Array.isArray(errors) && errors.length > 0 && errors.every(isConnectionRefused)) return true;
  return cause !== undefined && isConnectionRefused(cause);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const nested = (error as { errors?: unknown }).errors;
    if (!error.message && Array.isArray(nested)) return nested.map(errorMessage).join("; ");
    return error.message || error.name;
  }
  return String(error);
}

/** Hides the password of a connection URL, for logs (config's, which knows cluster URLs). */
export { redactUrl } from "@ripen/config";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on right now (the OS picks it, so parallel runs don't collide). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}
