import { isIPv4 } from "node:net";
import { refusalOf, type UrlPolicy } from "./addresses";

/**
 * A user URL (or the address its host resolved to) that Ripen will not call. `reason` names the
 * range ("private (10.0.0.0/8)", "metadata (169.254.169.254)", "loopback (127.0.0.0/8)") or the
 * rule ("not http(s)"); `target` is the host or address refused.
 */
export class UrlRefused extends Error {
  override name = "UrlRefused";
  readonly code = "ERR_URL_REFUSED";
  constructor(
    readonly reason: string,
    readonly target: string,
  ) {
    super(`${target} is refused: ${reason}`);
  }
}

/** The UrlRefused anywhere in an error's cause chain (fetch wraps it in a TypeError), or null. */
export function urlRefusedOf(error: unknown): UrlRefused | null {
  const seen = new Set<unknown>();
  let current = error;
  while (current instanceof Error && !seen.has(current)) {
    if (current instanceof UrlRefused) return current;
    seen.add(current);
    if (current instanceof AggregateError) {
      for (const inner of current.errors) {
        const found = urlRefusedOf(inner);
        if (found) return found;
      }
    }
    current = current.cause;
  }
  return null;
}

/** Whether an error is, or was caused by, a refused user URL or address. */
export function isUrlRefused(error: unknown): boolean {
  return urlRefusedOf(error) !== null;
}

const shortened = (url: string) => (url.length > 100 ? `${url.slice(0, 100)}…` : url);

/** `localhost` and its subdomains always mean this host (RFC 6761), whatever DNS says. */
function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost");
}

/**
 * The submit-time check of a user URL: http(s) only, and a host that is an IP address, in any
 * spelling the URL parser accepts (2130706433, 0177.0.0.1, 0x7f.1, 127.1, [::ffff:7f00:1]), must
 * be allowed by `refusalOf`. The WHATWG parser, which fetch also uses, turns those spellings into
 * the canonical address first, so what is checked is what would be dialed. A hostname passes
 * (except `localhost`, which is loopback by definition): it is resolved, and its addresses
 * checked, when the connection is made. Throws UrlRefused.
 */
export function checkUserUrl(url: string, policy: UrlPolicy): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UrlRefused("not a valid URL", shortened(url));
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UrlRefused(`not http(s) (${parsed.protocol})`, shortened(url));
  }
  const host = parsed.hostname;
  if (isIPv4(host) || host.startsWith("[")) {
    const reason = refusalOf(host, policy);
    if (reason) throw new UrlRefused(reason, host);
    return;
  }
  if (!policy.allowLoopback && isLocalhostName(host)) {
    throw new UrlRefused("loopback (localhost)", host);
  }
}
