import { isIPv4, isIPv6 } from "node:net";

/** What a user URL may reach. Everything but loopback is fixed: see `refusalOf`. */
export interface UrlPolicy {
  /**
   * Allow 127.0.0.0/8, ::1 (and ::ffff:127.x) and `localhost`. Off in production; on for the
   * local stack and tests, which receive their own callbacks on 127.0.0.1.
   */
  allowLoopback: boolean;
}

interface Range<N> {
  base: N;
  bits: number;
  reason: string;
}

// ---- IPv4 -------------------------------------------------------------------------------------

function v4ToInt(address: string): number {
  return address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

function v4Range(cidr: string, name: string, label = cidr): Range<number> {
  const [base, bits] = cidr.split("/");
  return { base: v4ToInt(base!), bits: Number(bits ?? 32), reason: `${name} (${label})` };
}

function inV4(address: number, range: Range<number>): boolean {
  if (range.bits === 0) return true;
  const shift = 32 - range.bits;
  // Division instead of >>>: a shift by 32 is a shift by 0 in JavaScript.
  return Math.floor(address / 2 ** shift) === Math.floor(range.base / 2 ** shift);
}

/**
 * Cloud instance-metadata endpoints: the prize of most SSRF. All but Azure's WireServer also lie
 * in a range refused below; they are named first so a log says what was aimed at.
 */
const metadataV4 = [
  "169.254.169.254", // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
  "169.254.170.2", // AWS ECS task metadata and credentials
  "100.100.100.200", // Alibaba Cloud
  "192.0.0.192", // Oracle Cloud (legacy)
  "168.63.129.16", // Azure WireServer: a public-range address that serves the host's secrets
].map((a) => v4Range(a, "metadata", a));

const loopbackV4 = v4Range("127.0.0.0/8", "loopback");

/** IANA's special-purpose IPv4 registry, less what is globally reachable and harmless. */
const refusedV4: Range<number>[] = [
  v4Range("0.0.0.0/8", "unspecified"), // 0.0.0.0 reaches the local host on Linux
  v4Range("10.0.0.0/8", "private"),
  v4Range("100.64.0.0/10", "CGNAT"),
  v4Range("169.254.0.0/16", "link-local"),
  v4Range("172.16.0.0/12", "private"),
  v4Range("192.0.0.0/24", "reserved"), // IETF protocol assignments
  v4Range("192.0.2.0/24", "documentation"),
  v4Range("192.88.99.0/24", "reserved"), // the deprecated 6to4 relay anycast
  v4Range("192.168.0.0/16", "private"),
  v4Range("198.18.0.0/15", "benchmark"),
  v4Range("198.51.100.0/24", "documentation"),
  v4Range("203.0.113.0/24", "documentation"),
  v4Range("224.0.0.0/4", "multicast"),
  v4Range("255.255.255.255/32", "broadcast", "255.255.255.255"),
  v4Range("240.0.0.0/4", "reserved"),
];

function refusalOfV4(address: number, policy: UrlPolicy): string | null {
  for (const range of metadataV4) if (inV4(address, range)) return range.reason;
  if (inV4(address, loopbackV4)) return policy.allowLoopback ? null : loopbackV4.reason;
  for (const range of refusedV4) if (inV4(address, range)) return range.reason;
  return null;
}

// ---- IPv6 -------------------------------------------------------------------------------------

/** An IPv6 address (valid per `isIPv6`, no zone) as a 128-bit integer. */
function v6ToBigInt(address: string): bigint {
  let text = address;
  // A trailing dotted quad (::ffff:127.0.0.1) becomes two hex groups.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = v4ToInt(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const headGroups = head ? head.split(":") : [];
  const restGroups = rest ? rest.split(":") : [];
  const zeros =
    rest === undefined ? [] : Array(8 - headGroups.length - restGroups.length).fill("0");
  return [...headGroups, ...zeros, ...restGroups].reduce(
    (n, group) => (n << 16n) | BigInt(Number.parseInt(group, 16)),
    0n,
  );
}

function v6Range(cidr: string, name: string, label = cidr): Range<bigint> {
  const [base, bits] = cidr.split("/");
  return { base: v6ToBigInt(base!), bits: Number(bits ?? 128), reason: `${name} (${label})` };
}

function inV6(address: bigint, range: Range<bigint>): boolean {
  const shift = BigInt(128 - range.bits);
  return address >> shift === range.base >> shift;
}

const metadataV6 = [
  "fd00:ec2::254", // AWS IMDS over IPv6
].map((a) => v6Range(a, "metadata", a));

/**
 * Forms that carry an IPv4 address, which is judged as IPv4: the host a socket reaches through
 * them is (or may be, through a translator or relay) that IPv4 address.
 */
const embedding = (cidr: string, form: string, shift: bigint) => ({
  range: v6Range(cidr, form),
  extract: (address: bigint) => Number((address >> shift) & 0xffffffffn),
});
const embeddingV6 = [
  embedding("::ffff:0:0/96", "IPv4-mapped", 0n),
  embedding("::ffff:0:0:0/96", "IPv4-translated", 0n),
  embedding("64:ff9b::/96", "NAT64", 0n),
  embedding("2002::/16", "6to4", 80n),
];

const unspecifiedV6 = v6Range("::/128", "unspecified", "::");
const loopbackV6 = v6Range("::1/128", "loopback", "::1");
const compatibleV6 = v6Range("::/96", "IPv4-compatible");

const refusedV6: Range<bigint>[] = [
  v6Range("64:ff9b:1::/48", "NAT64 local-use"),
  v6Range("100::/64", "reserved"), // discard-only
  v6Range("2001::/32", "Teredo"),
  v6Range("2001:2::/48", "benchmark"),
  v6Range("2001:db8::/32", "documentation"),
  v6Range("2001::/23", "reserved"), // IETF protocol assignments (ORCHID and others)
  v6Range("3fff::/20", "documentation"),
  v6Range("fc00::/7", "unique-local"),
  v6Range("fe80::/10", "link-local"),
  v6Range("fec0::/10", "site-local"), // deprecated, still routed on some networks
  v6Range("ff00::/8", "multicast"),
];

/** Everything else outside 2000::/3 is unallocated: no legitimate endpoint lives there. */
const globalUnicastV6 = v6Range("2000::/3", "global unicast");

function refusalOfV6(address: bigint, policy: UrlPolicy): string | null {
  for (const range of metadataV6) if (inV6(address, range)) return range.reason;
  if (inV6(address, unspecifiedV6)) return unspecifiedV6.reason;
  if (inV6(address, loopbackV6)) return policy.allowLoopback ? null : loopbackV6.reason;
  for (const { range, extract } of embeddingV6) {
    if (!inV6(address, range)) continue;
    const inner = refusalOfV4(extract(address), policy);
    return inner && `${inner} as ${range.reason}`;
  }
  if (inV6(address, compatibleV6)) {
    // Deprecated since 2006; nothing legitimate uses it, whatever IPv4 address it carries.
    const inner = refusalOfV4(Number(address & 0xffffffffn), policy);
    return inner ? `${inner} as ${compatibleV6.reason}` : compatibleV6.reason;
  }
  for (const range of refusedV6) if (inV6(address, range)) return range.reason;
  if (!inV6(address, globalUnicastV6)) return "reserved (outside 2000::/3)";
  return null;
}

// ---- Either -----------------------------------------------------------------------------------

/**
 * The canonical IPv4 address a legacy spelling stands for (decimal 2130706433, octal 0177.0.0.1,
 * hex 0x7f.0.0.1, short 127.1), as a URL parser (and inet_aton) reads it; null when it is not one.
 */
export function canonicalIPv4(text: string): string | null {
  if (isIPv4(text)) return text;
  if (!/^[0-9a-fA-FxX.]+$/.test(text)) return null;
  try {
    const host = new URL(`http://${text}/`).hostname;
    return isIPv4(host) ? host : null;
  } catch {
    return null;
  }
}

/**
 * Whether a user URL may reach `address` (IPv4 in any spelling, or IPv6 with or without brackets
 * or a zone), and if not why: "private (10.0.0.0/8)", "metadata (169.254.169.254)",
 * "loopback (127.0.0.0/8)", "link-local (fe80::/10)", … An IPv6 form carrying an IPv4 address
 * (mapped, translated, compatible, NAT64, 6to4) is judged by that address. Anything that is not
 * an address is refused: the guard fails closed. Null means allowed.
 */
export function refusalOf(address: string, policy: UrlPolicy): string | null {
  const v4 = canonicalIPv4(address);
  if (v4) return refusalOfV4(v4ToInt(v4), policy);
  const v6 = address.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  if (isIPv6(v6)) return refusalOfV6(v6ToBigInt(v6), policy);
  return `not an IP address (${JSON.stringify(address)})`;
}
