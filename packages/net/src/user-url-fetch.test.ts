import type { LookupAddress } from "node:dns";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, LookupFunction } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import {
  createUserUrlDispatcher,
  createUserUrlFetch,
  guardedLookup,
  isUrlRefused,
  type UrlPolicy,
  urlRefusedOf,
} from "./index";
import { refusedCorpus } from "./ssrf-corpus";

const strict: UrlPolicy = { allowLoopback: false };
const loose: UrlPolicy = { allowLoopback: true };

interface Seen {
  method: string;
  path: string;
  body: string;
  headers: IncomingMessage["headers"];
}

/** A client endpoint on 127.0.0.1 that records what reached it. */
async function startServer(): Promise<{ server: Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const url = new URL(req.url ?? "/", "http://x");
    seen.push({ method: req.method ?? "", path: url.pathname, body, headers: req.headers });
    // One connection per request, so every request makes its own connection (and lookup).
    res.setHeader("connection", "close");
    const to = url.searchParams.get("to");
    if (url.pathname.startsWith("/redirect/") && to) {
      res.writeHead(Number(url.pathname.split("/")[2]), { location: to }).end();
    } else if (url.pathname.startsWith("/hops/")) {
      const left = Number(url.pathname.split("/")[2]);
      if (left === 0) res.end("arrived");
      else res.writeHead(302, { location: `/hops/${left - 1}` }).end();
    } else {
      res.end(`${req.method} ${url.pathname} ${body}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** DNS for the tests: each name answers its list of addresses, call after call (the last repeats). */
function fakeDns(answers: Record<string, (string[] | Error)[]>) {
  const calls: string[] = [];
  const lookup: LookupFunction = (hostname, options, callback) => {
    const sequence = answers[hostname];
    const n = calls.filter((c) => c === hostname).length;
    calls.push(hostname);
    setImmediate(() => {
      const answer = sequence?.[Math.min(n, sequence.length - 1)];
      if (!answer) {
        const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        error.code = "ENOTFOUND";
        return callback(error, "");
      }
      if (answer instanceof Error) return callback(answer, "");
      const all: LookupAddress[] = answer.map((address) => ({
        address,
        family: address.includes(":") ? 6 : 4,
      }));
      if (options.all) callback(null, all);
      else callback(null, all[0]!.address, all[0]!.family);
    });
  };
  return { lookup, calls };
}

/** The address a URL host means, as a resolver would answer it (canonical, no brackets). */
const addressOf = (host: string) => new URL(`http://${host}/`).hostname.replace(/^\[(.*)\]$/, "$1");

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => {
      throw new Error("expected the call to be refused, and it succeeded");
    },
    (e: unknown) => e,
  );
  expect(isUrlRefused(error), String((error as Error)?.stack)).toBe(true);
  return urlRefusedOf(error)!.reason;
}

let endpoint: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
  endpoint = await startServer();
});
afterAll(() => closeServer(endpoint.server));
beforeEach(() => {
  endpoint.seen.length = 0;
});

function guardedFetch(policy: UrlPolicy, dns = fakeDns({}), maxRedirects?: number) {
  const f = createUserUrlFetch(policy, { lookup: dns.lookup, maxRedirects });
  onTestFinished(() => f.close());
  return f;
}

describe("the corpus reaches nothing", () => {
  it.each(refusedCorpus)("fetch http://$host/ is refused ($why)", async ({ host, reason }) => {
    const f = guardedFetch(strict);
    // The test server's port: were the guard to let 127.x through, it would be reached.
    expect(await refusal(f(`http://${host}:${endpoint.port}/hook`, { method: "POST" }))).toMatch(
      reason,
    );
    expect(endpoint.seen).toEqual([]);
  });

  // The dispatcher alone, without fetch's check of each hop's URL: the connect-time check holds.
  it.each(refusedCorpus)(
    "the dispatcher refuses to dial $host ($why)",
    async ({ host, reason }) => {
      const dispatcher = createUserUrlDispatcher(strict);
      onTestFinished(() => dispatcher.close());
      expect(await refusal(request(`http://${host}:${endpoint.port}/`, { dispatcher }))).toMatch(
        reason,
      );
      expect(endpoint.seen).toEqual([]);
    },
  );

  it.each(refusedCorpus)(
    "a name resolving to $host is refused at connect ($why)",
    async ({ host, reason }) => {
      const dns = fakeDns({ "hooks.client.test": [[addressOf(host)]] });
      const f = guardedFetch(strict, dns);
      expect(await refusal(f(`http://hooks.client.test:${endpoint.port}/hook`))).toMatch(reason);
      expect(dns.calls).toEqual(["hooks.client.test"]);
      expect(endpoint.seen).toEqual([]);
    },
  );

  it("https is guarded the same way (the TLS socket dials through the same lookup)", async () => {
    const dns = fakeDns({ "secure.test": [["169.254.169.254"]] });
    const f = guardedFetch(strict, dns);
    expect(await refusal(f("https://secure.test/latest/meta-data/"))).toMatch(/^metadata/);
    expect(dns.calls).toEqual(["secure.test"]);
  });

  it("a name with one refused address among public ones is refused", async () => {
    const dns = fakeDns({ "mixed.test": [["93.184.215.14", "127.0.0.1"]] });
    const f = guardedFetch(strict, dns);
    expect(await refusal(f(`http://mixed.test:${endpoint.port}/`))).toMatch(/^loopback/);
    expect(endpoint.seen).toEqual([]);
  });
});

describe("allowed addresses connect", () => {
  it("a public address passes the connect-time lookup, in both answer forms", async () => {
    const dns = fakeDns({ "hooks.example.com": [["93.184.215.14", "2606:2800:21f:cb07::1"]] });
    const lookup = guardedLookup(strict, dns.lookup);
    const one = await new Promise((resolve, reject) =>
      lookup("hooks.example.com", {}, (error, address, family) =>
        error ? reject(error) : resolve({ address, family }),
      ),
    );
    expect(one).toEqual({ address: "93.184.215.14", family: 4 });
    const all = await new Promise((resolve, reject) =>
      lookup("hooks.example.com", { all: true }, (error, addresses) =>
        error ? reject(error) : resolve(addresses),
      ),
    );
    expect(all).toEqual([
      { address: "93.184.215.14", family: 4 },
      { address: "2606:2800:21f:cb07::1", family: 6 },
    ]);
  });

  it("with allowLoopback, a loopback literal and a name resolving to it are reached", async () => {
    const dns = fakeDns({ "receiver.test": [["127.0.0.1"]] });
    const f = guardedFetch(loose, dns);
    const direct = await f(`http://127.0.0.1:${endpoint.port}/a`, { method: "POST", body: "x" });
    expect(await direct.text()).toBe("POST /a x");
    const named = await f(`http://receiver.test:${endpoint.port}/b`);
    expect(await named.text()).toBe("GET /b ");
    expect(endpoint.seen.map((s) => s.path)).toEqual(["/a", "/b"]);
  });

  it("a Request object is accepted as input", async () => {
    const f = guardedFetch(loose);
    const response = await f(
      new Request(`http://127.0.0.1:${endpoint.port}/r`, { method: "PUT", body: "y" }),
    );
    expect(await response.text()).toBe("PUT /r y");
  });
});

describe("redirects: each hop checked, at most 5", () => {
  const redirectTo = (status: number, to: string) =>
    `http://127.0.0.1:${endpoint.port}/redirect/${status}?to=${encodeURIComponent(to)}`;

  it.each([
    ["http://10.0.0.1/admin", /^private \(10\.0\.0\.0\/8\)/],
    ["http://169.254.169.254/latest/meta-data/iam/", /^metadata/],
    ["http://[::ffff:a9fe:a9fe]/latest/", /^metadata .* as IPv4-mapped/],
    ["http://2852039166/latest/", /^metadata/],
    ["http://[fd00:ec2::254]/latest/", /^metadata \(fd00:ec2::254\)/],
    ["http://0x0a.0.0.1/", /^private/],
    ["http://192.168.0.1:8080/", /^private \(192\.168/],
    ["gopher://127.0.0.1:6379/_INFO", /not http\(s\)/],
  ])("a redirect from an allowed endpoint to %s is refused at the hop", async (to, reason) => {
    const f = guardedFetch(loose);
    const statuses = [301, 302, 303, 307, 308];
    for (const status of statuses) {
      expect(await refusal(f(redirectTo(status, to), { method: "POST", body: "{}" }))).toMatch(
        reason,
      );
    }
    // Only the first hop of each, the allowed one, was reached.
    expect(endpoint.seen.map((s) => s.path)).toEqual(statuses.map((s) => `/redirect/${s}`));
  });

  it("a redirect to a name that resolves private is refused at its connect", async () => {
    const dns = fakeDns({ "internal.test": [["10.1.2.3"]] });
    const f = guardedFetch(loose, dns);
    expect(await refusal(f(redirectTo(302, "http://internal.test/")))).toBe("private (10.0.0.0/8)");
    expect(dns.calls).toEqual(["internal.test"]);
  });

  it("allowed hops are followed: 5 hops arrive, 6 fail", async () => {
    const f = guardedFetch(loose);
    const five = await f(`http://127.0.0.1:${endpoint.port}/hops/5`);
    expect(five.status).toBe(200);
    expect(await five.text()).toBe("arrived");
    endpoint.seen.length = 0;
    await expect(f(`http://127.0.0.1:${endpoint.port}/hops/6`)).rejects.toThrow(
      /more than 5 redirects/,
    );
    expect(endpoint.seen).toHaveLength(6);
  });

  it("maxRedirects is configurable, and 0 follows none", async () => {
    const f = guardedFetch(loose, fakeDns({}), 0);
    await expect(f(`http://127.0.0.1:${endpoint.port}/hops/1`)).rejects.toThrow(/more than 0/);
  });

  it("303 and a POST's 301/302 continue as GET; 307/308 resend the body", async () => {
    const f = guardedFetch(loose);
    const target = `http://127.0.0.1:${endpoint.port}/landed`;
    for (const status of [301, 302, 303, 307, 308]) {
      endpoint.seen.length = 0;
      const response = await f(redirectTo(status, target), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"a":1}',
      });
      const kept = status === 307 || status === 308;
      expect(await response.text()).toBe(kept ? 'POST /landed {"a":1}' : "GET /landed ");
      expect(endpoint.seen[1]!.headers["content-type"]).toBe(kept ? "application/json" : undefined);
    }
  });

  it("credentials are not carried to another origin", async () => {
    const dns = fakeDns({ "other.test": [["127.0.0.1"]] });
    const f = guardedFetch(loose, dns);
    await f(redirectTo(307, `http://other.test:${endpoint.port}/elsewhere`), {
      headers: { authorization: "Bearer secret", "webhook-id": "msg_1" },
    });
    expect(endpoint.seen[0]!.headers.authorization).toBe("Bearer secret");
    expect(endpoint.seen[1]!.headers.authorization).toBeUndefined();
    expect(endpoint.seen[1]!.headers["webhook-id"]).toBe("msg_1");
  });

  it('redirect: "manual" answers the 3xx; "error" fails on it', async () => {
    const f = guardedFetch(loose);
    const manual = await f(redirectTo(302, "http://10.0.0.1/"), { redirect: "manual" });
    expect(manual.status).toBe(302);
    expect(manual.headers.get("location")).toBe("http://10.0.0.1/");
    await expect(f(redirectTo(302, "/x"), { redirect: "error" })).rejects.toThrow(/redirected/);
  });
});

describe("DNS rebinding: the connect-time lookup decides", () => {
  it("a name that answered public to an earlier check and private at connect reaches nothing", async () => {
    // The attacker's DNS: public for the first question, loopback (where the endpoint listens)
    // for every later one. A guard that resolved once to check and again to connect would be
    // fooled: the check would get the first answer, the socket the second.
    const dns = fakeDns({ "rebind.test": [["93.184.215.14"], ["127.0.0.1"]] });
    const earlierCheck = await new Promise<string>((resolve) =>
      dns.lookup("rebind.test", {}, (_e, address) => resolve(address as string)),
    );
    expect(earlierCheck).toBe("93.184.215.14");
    const f = guardedFetch(strict, dns);
    expect(await refusal(f(`http://rebind.test:${endpoint.port}/hook`))).toMatch(/^loopback/);
    expect(dns.calls).toEqual(["rebind.test", "rebind.test"]);
    expect(endpoint.seen).toEqual([]);
  });

  it("the address checked is the address dialed: one lookup per connection, no second one", async () => {
    // Allowed first (loopback stands in for a public address here), private after. Were the
    // check and the connect two lookups, the check would pass on the first answer and the
    // socket would dial the second; instead the request lands on the first, with one lookup.
    const dns = fakeDns({ "rebind.test": [["127.0.0.1"], ["10.0.0.7"]] });
    const f = guardedFetch(loose, dns);
    const first = await f(`http://rebind.test:${endpoint.port}/first`);
    expect(await first.text()).toBe("GET /first ");
    expect(dns.calls).toEqual(["rebind.test"]);
    // The endpoint closed the connection, so the next request connects (and resolves) again:
    // the name now answers a private address, and the connection is refused.
    expect(await refusal(f(`http://rebind.test:${endpoint.port}/second`))).toBe(
      "private (10.0.0.0/8)",
    );
    expect(dns.calls).toEqual(["rebind.test", "rebind.test"]);
    expect(endpoint.seen.map((s) => s.path)).toEqual(["/first"]);
  });

  it("rebinding between redirect hops is caught on the hop", async () => {
    const dns = fakeDns({ "hop.test": [["127.0.0.1"], ["169.254.169.254"]] });
    const f = guardedFetch(loose, dns);
    const to = `http://hop.test:${endpoint.port}/again`;
    const start = `http://hop.test:${endpoint.port}/redirect/307?to=${encodeURIComponent(to)}`;
    expect(await refusal(f(start, { method: "POST", body: "{}" }))).toMatch(/^metadata/);
    expect(endpoint.seen.map((s) => s.path)).toEqual(["/redirect/307"]);
  });
});

describe("a host that does not resolve fails that call", () => {
  it("with the resolver's error as the cause, not a refusal and not a crash", async () => {
    const f = guardedFetch(strict, fakeDns({}));
    const error = await f("https://no-such-host.invalid/hook").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(isUrlRefused(error)).toBe(false);
    const cause = (error as Error).cause as NodeJS.ErrnoException;
    expect(cause.code).toBe("ENOTFOUND");
    expect(cause.message).toContain("no-such-host.invalid");
    // The fetch still works for the next call.
    await expect(f("http://10.0.0.1/")).rejects.toSatisfy(isUrlRefused);
  });

  it("an empty answer is ENOTFOUND too", async () => {
    const f = guardedFetch(strict, fakeDns({ "empty.test": [[]] }));
    const error = await f("http://empty.test/").catch((e: unknown) => e);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe("ENOTFOUND");
  });

  it("a resolver that throws fails the call", async () => {
    const throwing: LookupFunction = () => {
      throw new Error("resolver broke");
    };
    const f = createUserUrlFetch(strict, { lookup: throwing });
    onTestFinished(() => f.close());
    const error = await f("http://broken.test/").catch((e: unknown) => e);
    expect(((error as Error).cause as Error).message).toBe("resolver broke");
  });
});
