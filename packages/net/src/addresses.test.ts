import { describe, expect, it } from "vitest";
import { checkUserUrl, refusalOf, UrlRefused } from "./index";
import { refusedCorpus } from "./ssrf-corpus";

const strict = { allowLoopback: false };
const loose = { allowLoopback: true };

/** The reason checkUserUrl gave, or null when it passed. */
function refusedBy(url: string, policy = strict): string | null {
  try {
    checkUserUrl(url, policy);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(UrlRefused);
    return (error as UrlRefused).reason;
  }
}

describe("refusalOf: every refused range, in every spelling", () => {
  it.each(refusedCorpus.filter((entry) => !entry.urlOnly))("$host ($why)", ({ host, reason }) => {
    const address = host.replace(/^\[(.*)\]$/, "$1");
    expect(refusalOf(address, strict)).toMatch(reason);
  });
});

describe("checkUserUrl: the same corpus as URL hosts", () => {
  it.each(refusedCorpus)("http://$host/ ($why)", ({ host, reason }) => {
    expect(refusedBy(`http://${host}/hook`)).toMatch(reason);
    expect(refusedBy(`https://user:pw@${host}:8443/hook?x=1`)).toMatch(reason);
  });
});

describe("the names the brief asks for", () => {
  it.each([
    ["10.0.0.1", /^private \(10\.0\.0\.0\/8\)$/],
    ["172.16.0.1", /^private \(172\.16\.0\.0\/12\)$/],
    ["192.168.0.1", /^private \(192\.168\.0\.0\/16\)$/],
    ["169.254.169.254", /^metadata/],
    ["fd00:ec2::254", /^metadata/],
    ["127.0.0.1", /^loopback/],
    ["::1", /^loopback/],
    ["100.64.0.1", /^CGNAT/],
    ["0.0.0.0", /^unspecified/],
    ["::", /^unspecified/],
    ["255.255.255.255", /^broadcast/],
  ])("%s → %s", (address, reason) => {
    expect(refusalOf(address, strict)).toMatch(reason);
  });
});

describe("allowed", () => {
  const publicHosts = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "172.32.0.1", // just past 172.16/12
    "172.15.255.255", // just before it
    "100.128.0.1", // just past 100.64/10
    "100.63.255.255",
    "169.253.255.255",
    "198.20.0.1", // just past 198.18/15
    "223.255.255.255", // just below multicast
    "11.0.0.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8", // IPv4-mapped public
    "64:ff9b::808:808", // NAT64 of a public address (DNS64 networks synthesize these)
    "2002:808:808::1", // 6to4 of a public address
  ];
  it.each(publicHosts)("a public address: %s", (address) => {
    expect(refusalOf(address, strict)).toBeNull();
    expect(
      refusedBy(`https://${address.includes(":") ? `[${address}]` : address}/hook`),
    ).toBeNull();
  });

  it.each([
    "https://hooks.example.com/ripen",
    "http://client.internal:8080/x", // a name: judged on the address it resolves to, at delivery
    "https://127.0.0.1.nip.io/x", // likewise: this one will resolve to loopback and be refused then
  ])("a host name passes at submit: %s", (url) => {
    expect(refusedBy(url)).toBeNull();
  });
});

describe("loopback follows the policy; nothing else does", () => {
  it.each(["127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1", "2130706433", "0x7f.1"])(
    "%s is allowed with allowLoopback",
    (address) => {
      expect(refusalOf(address, strict)).toMatch(/^loopback/);
      expect(refusalOf(address, loose)).toBeNull();
    },
  );

  it("localhost names are loopback by definition (RFC 6761)", () => {
    for (const url of [
      "http://localhost:3000/x",
      "http://LOCALHOST./x",
      "http://a.b.localhost/x",
    ]) {
      expect(refusedBy(url)).toBe("loopback (localhost)");
      expect(refusedBy(url, loose)).toBeNull();
    }
  });

  it.each(refusedCorpus.filter(({ why }) => !why.startsWith("loopback")))(
    "$host stays refused with allowLoopback ($why)",
    ({ host, reason }) => {
      expect(refusedBy(`http://${host}/`, loose)).toMatch(reason);
    },
  );
});

describe("what is not an http(s) URL", () => {
  it.each([
    ["file:///etc/passwd", /not http\(s\) \(file:\)/],
    ["gopher://127.0.0.1:6379/_FLUSHALL", /not http\(s\)/],
    ["ftp://example.com/x", /not http\(s\)/],
    ["not a url", /not a valid URL/],
    ["http://[::1", /not a valid URL/],
  ])("%s is refused", (url, reason) => {
    expect(refusedBy(url)).toMatch(reason);
  });

  it("refusalOf fails closed on anything that is not an address", () => {
    expect(refusalOf("example.com", loose)).toMatch(/not an IP address/);
    expect(refusalOf("", loose)).toMatch(/not an IP address/);
    expect(refusalOf("1.2.3.4.5", loose)).toMatch(/not an IP address/);
  });

  it("an IPv6 zone (from a resolver) does not hide the range", () => {
    expect(refusalOf("fe80::1%eth0", loose)).toMatch(/^link-local/);
  });
});
