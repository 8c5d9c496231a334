import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { Agent, buildConnector } from "undici";
import { refusalOf, type UrlPolicy } from "./addresses";
import { UrlRefused } from "./user-url";

export interface GuardOptions {
  /** Resolves host names (default `dns.lookup`); tests inject their own DNS. */
  lookup?: LookupFunction;
  /** How long establishing one connection (lookup, TCP, TLS) may take (default 10 s). */
  connectTimeoutMs?: number;
}

/**
 * A `lookup` for `net.connect` that resolves with `lookup` and refuses unless every address the
 * name resolved to is allowed. The socket connects to what this answered, so the address checked
 * is the address dialed: no second resolution happens between the check and the connect, and a
 * name that rebinds to a private address between two connections is caught on the second.
 * A name with any refused address is refused outright rather than filtered: a public address
 * next to a private one is the shape of a rebinding attack, not of a real endpoint.
 */
export function guardedLookup(
  policy: UrlPolicy,
  lookup: LookupFunction = dnsLookup,
): LookupFunction {
  return (hostname, options, callback) => {
    const answer = (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (error) return callback(error, "");
      if (addresses.length === 0) {
        const none: NodeJS.ErrnoException = new Error(`${hostname} resolved to no address`);
        none.code = "ENOTFOUND";
        return callback(none, "");
      }
      for (const { address } of addresses) {
        const reason = refusalOf(address, policy);
        if (reason) return callback(new UrlRefused(reason, `${hostname} (${address})`), "");
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    };
    try {
      // Always every address, so none escapes the check whichever form the caller asked for.
      lookup(hostname, { ...options, all: true }, (error, address, family) => {
        if (error) return answer(error, []);
        answer(
          null,
          Array.isArray(address) ? address : [{ address, family: family ?? isIP(address) }],
        );
      });
    } catch (error) {
      answer(error as NodeJS.ErrnoException, []);
    }
  };
}

/**
 * undici's connector with the guard: an IP-literal host (which `net.connect` dials without any
 * lookup) is checked here; a name is resolved and checked by `guardedLookup` as it connects.
 */
export function guardedConnector(
  policy: UrlPolicy,
  options: GuardOptions = {},
): buildConnector.connector {
  const connect = buildConnector({
    lookup: guardedLookup(policy, options.lookup),
    timeout: options.connectTimeoutMs,
  } as buildConnector.BuildOptions);
  return (connectOptions, callback) => {
    const { hostname } = connectOptions;
    if (isIP(hostname)) {
      const reason = refusalOf(hostname, policy);
      if (reason) {
        // Asynchronously, as a failed connect would be.
        queueMicrotask(() => callback(new UrlRefused(reason, hostname), null));
        return;
      }
    }
    return connect(connectOptions, callback);
  };
}

/**
 * An undici dispatcher whose every connection is checked against `policy` at connect time. Use it
 * for any request to a user URL (`fetch(url, { dispatcher })`, `request(url, { dispatcher })`);
 * it does not follow redirects itself (undici's `redirect` interceptor would go through it
 * too, but `createUserUrlFetch` follows them by hand so each hop's URL is checked as well).
 */
export function createUserUrlDispatcher(policy: UrlPolicy, options: GuardOptions = {}): Agent {
  return new Agent({ connect: guardedConnector(policy, options) });
}
