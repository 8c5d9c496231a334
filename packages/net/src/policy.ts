import type { UrlPolicy } from "./addresses";

/**
 * The policy a service's configuration asks for. Production may allow loopback (a single-host
 * deployment whose clients listen on the same machine), but every start then says so in a
 * warning: it lets any account make Ripen call services bound to 127.0.0.1.
 */
export function userUrlPolicyOf(
  env: { NODE_ENV: string; USER_URLS_ALLOW_LOOPBACK: boolean },
  logger: { warn(fields: object, message: string): void },
): UrlPolicy {
  if (env.NODE_ENV === "production" && env.USER_URLS_ALLOW_LOOPBACK) {
    logger.warn(
      { event: "config.user_urls_allow_loopback", USER_URLS_ALLOW_LOOPBACK: true },
      "USER_URLS_ALLOW_LOOPBACK=true in production: user URLs (callbacks) may reach services on this host's loopback",
    );
  }
  return { allowLoopback: env.USER_URLS_ALLOW_LOOPBACK };
}
