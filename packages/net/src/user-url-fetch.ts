import { type RequestInit as UndiciRequestInit, fetch as undiciFetch } from "undici";
import type { UrlPolicy } from "./addresses";
import { createUserUrlDispatcher, type GuardOptions } from "./guarded-dispatcher";
import { checkUserUrl } from "./user-url";

export interface UserUrlFetchOptions extends GuardOptions {
  /** Redirects followed before the call fails (default 5). */
  maxRedirects?: number;
}

/** `fetch` for user URLs; `close()` ends its connection pool. */
export type UserUrlFetch = typeof fetch & { close(): Promise<void> };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** fetch's own failure shape, so a caller handles one kind of network error. */
function fetchFailed(message: string, cause?: unknown): TypeError {
  return new TypeError(message, cause === undefined ? undefined : { cause });
}

/** A body that can be sent again on a 307/308 hop; a stream is read once. */
function isReplayable(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === "string" ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof URLSearchParams ||
    body instanceof Blob ||
    body instanceof FormData
  );
}

/**
 * A `fetch` for URLs users give Ripen (client callbacks; input images when Ripen fetches them).
 * Every connection is made through `createUserUrlDispatcher`, so the address a name resolves to
 * is checked as it is dialed (DNS rebinding between a check and the connect cannot pass).
 * Redirects are followed here, at most `maxRedirects` hops, each hop's URL checked with
 * `checkUserUrl` and connected the same way; `redirect: "manual"` returns the 3xx and
 * `redirect: "error"` fails on one, as in fetch. Per the fetch standard a 301/302 to a POST and
 * a 303 continue as GET without a body, and credentials (`authorization`, `cookie`) are not
 * carried to another origin. A refused URL or address rejects with a TypeError whose cause is a
 * UrlRefused (`isUrlRefused(error)`); an unresolvable host rejects with its lookup error as cause.
 *
 * The response is undici's (the same interface as the global one). Bodies are sent as given;
 * FormData from another copy of undici (Node's global) is not recognized, so send bytes or text.
 */
export function createUserUrlFetch(
  policy: UrlPolicy,
  options: UserUrlFetchOptions = {},
): UserUrlFetch {
  const dispatcher = createUserUrlDispatcher(policy, options);
  const maxRedirects = options.maxRedirects ?? 5;

  async function userUrlFetch(input: string | URL | Request, init: RequestInit = {}) {
    let url: URL;
    let request: RequestInit = init;
    if (input instanceof Request) {
      const body =
        input.method === "GET" || input.method === "HEAD" ? undefined : await input.arrayBuffer();
      request = {
        method: input.method,
        headers: input.headers,
        body,
        signal: input.signal,
        redirect: input.redirect,
        ...init,
      };
      url = new URL(input.url);
    } else {
      try {
        url = new URL(input);
      } catch (error) {
        throw fetchFailed(`fetch failed: invalid URL ${String(input)}`, error);
      }
    }
    const mode = request.redirect ?? "follow";
    let method = (request.method ?? "GET").toUpperCase();
    let body = request.body;
    const headers = new Headers(request.headers);

    for (let hop = 0; ; hop++) {
      try {
        checkUserUrl(url.href, policy);
      } catch (error) {
        throw fetchFailed("fetch failed", error);
      }
      const response = await undiciFetch(url, {
        ...(request as UndiciRequestInit),
        method,
        headers: [...headers],
        body: body as UndiciRequestInit["body"],
        redirect: "manual",
        dispatcher,
      });
      const location = response.headers.get("location");
      if (!REDIRECTS.has(response.status) || location === null || mode === "manual") {
        return response;
      }
      // The hop is not returned: free its connection for the next one.
      await response.body?.cancel().catch(() => {});
      if (mode === "error") throw fetchFailed(`fetch failed: redirected (${response.status})`);
      if (hop >= maxRedirects) {
        throw fetchFailed(`fetch failed: more than ${maxRedirects} redirects`);
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch (error) {
        throw fetchFailed(`fetch failed: invalid redirect location ${location}`, error);
      }
      const status = response.status;
      if (
        ((status === 301 || status === 302) && method === "POST") ||
        (status === 303 && method !== "GET" && method !== "HEAD")
      ) {
        method = "GET";
        body = undefined;
        for (const name of [
          "content-type",
          "content-length",
          "content-encoding",
          "content-language",
          "content-location",
        ]) {
          headers.delete(name);
        }
      } else if (!isReplayable(body)) {
        throw fetchFailed(
          `fetch failed: a ${status} redirect needs the body again, and it was a stream`,
        );
      }
      if (next.origin !== url.origin) {
        for (const name of ["authorization", "cookie", "proxy-authorization"]) headers.delete(name);
      }
      url = next;
    }
  }

  return Object.assign(userUrlFetch as unknown as typeof fetch, {
    close: () => dispatcher.close(),
  });
}
