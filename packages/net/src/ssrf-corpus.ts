/**
 * The SSRF corpus: hosts, as written in a URL, that no user URL may reach, with the reason each
 * is refused for. Every range in several spellings: canonical, decimal, octal, hex and short
 * IPv4 forms, and the IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4).
 * Shared by the tests of `@ripen/net` and of the API.
 */
export interface CorpusEntry {
  host: string;
  why: string;
  reason: RegExp;
  /** A spelling only a URL parser reads (IDNA mapping, percent-encoding), not an address. */
  urlOnly?: boolean;
}

const entries = (reason: RegExp, list: [host: string, why: string][]): CorpusEntry[] =>
  list.map(([host, why]) => ({ host, why, reason }));

export const refusedCorpus: CorpusEntry[] = [
  ...entries(/^loopback \(127\.0\.0\.0\/8\)$/, [
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback, top of 127/8"],
    ["2130706433", "loopback, decimal"],
    ["0177.0.0.1", "loopback, octal"],
    ["0x7f.0.0.1", "loopback, hex"],
    ["0x7f000001", "loopback, one hex number"],
    ["017700000001", "loopback, one octal number"],
    ["127.1", "loopback, short form"],
    ["0x7f.1", "loopback, short hex"],
    ["0000000000000000000177.0.0.1", "loopback, zero-padded octal"],
  ]),
  ...entries(/^loopback \(127\.0\.0\.0\/8\)$/, [
    ["127.0.0.1.", "loopback, trailing dot"],
    ["１２７.０.０.１", "loopback, fullwidth digits"],
    ["127。0。0。1", "loopback, ideographic full stops"],
    ["①②⑦.0.0.1", "loopback, circled digits"],
    ["%31%32%37.0.0.1", "loopback, percent-encoded"],
  ]).map((entry) => ({ ...entry, urlOnly: true })),
  ...entries(/^loopback \(::1\)$/, [
    ["[::1]", "loopback IPv6"],
    ["[0:0:0:0:0:0:0:1]", "loopback IPv6, long form"],
  ]),
  ...entries(/^loopback \(127\.0\.0\.0\/8\) as IPv4-mapped/, [
    ["[::ffff:127.0.0.1]", "loopback, IPv4-mapped"],
    ["[::ffff:7f00:1]", "loopback, IPv4-mapped hex"],
  ]),
  ...entries(/^loopback \(127\.0\.0\.0\/8\) as IPv4-compatible/, [
    ["[::127.0.0.1]", "loopback, IPv4-compatible"],
  ]),

  ...entries(/^private \(10\.0\.0\.0\/8\)$/, [
    ["10.0.0.1", "private 10/8"],
    ["10.255.255.255", "private 10/8, top"],
    ["167772161", "private 10/8, decimal"],
    ["012.0.0.1", "private 10/8, octal"],
    ["0xa.0.0.1", "private 10/8, hex"],
    ["10.1", "private 10/8, short form"],
  ]),
  ...entries(/^private \(10\.0\.0\.0\/8\) as/, [
    ["[::ffff:10.0.0.1]", "private 10/8, IPv4-mapped"],
    ["[::ffff:a00:1]", "private 10/8, IPv4-mapped hex"],
    ["[::10.0.0.1]", "private 10/8, IPv4-compatible"],
    ["[64:ff9b::10.0.0.1]", "private 10/8, NAT64"],
    ["[2002:a00:1::1]", "private 10/8, 6to4"],
  ]),
  ...entries(/^private \(172\.16\.0\.0\/12\)/, [
    ["172.16.0.1", "private 172.16/12"],
    ["172.31.255.254", "private 172.16/12, top"],
    ["2886729729", "private 172.16/12, decimal"],
    ["0xac100001", "private 172.16/12, hex"],
    ["[::ffff:ac10:1]", "private 172.16/12, IPv4-mapped"],
  ]),
  ...entries(/^private \(192\.168\.0\.0\/16\)/, [
    ["192.168.1.1", "private 192.168/16"],
    ["3232235777", "private 192.168/16, decimal"],
    ["0300.0250.1.1", "private 192.168/16, octal"],
    ["192.168.257", "private 192.168/16, short form"],
    ["[::ffff:192.168.1.1]", "private 192.168/16, IPv4-mapped"],
  ]),

  ...entries(/^metadata \(169\.254\.169\.254\)/, [
    ["169.254.169.254", "metadata"],
    ["2852039166", "metadata, decimal"],
    ["0xa9fea9fe", "metadata, hex"],
    ["0251.0376.0251.0376", "metadata, octal"],
    ["169.254.43518", "metadata, short form"],
    ["[::ffff:169.254.169.254]", "metadata, IPv4-mapped"],
    ["[::ffff:a9fe:a9fe]", "metadata, IPv4-mapped hex"],
    ["[::169.254.169.254]", "metadata, IPv4-compatible"],
    ["[64:ff9b::a9fe:a9fe]", "metadata, NAT64"],
    ["[2002:a9fe:a9fe::]", "metadata, 6to4"],
  ]),
  ...entries(/^metadata \(fd00:ec2::254\)$/, [
    ["[fd00:ec2::254]", "metadata IPv6 (AWS)"],
    ["[fd00:0ec2:0:0:0:0:0:0254]", "metadata IPv6, long form"],
  ]),
  ...entries(/^metadata/, [
    ["169.254.170.2", "metadata (AWS ECS)"],
    ["100.100.100.200", "metadata (Alibaba)"],
    ["168.63.129.16", "metadata (Azure WireServer)"],
  ]),

  ...entries(/^link-local \(169\.254\.0\.0\/16\)/, [
    ["169.254.0.1", "link-local 169.254/16"],
    ["169.254.255.254", "link-local 169.254/16, top"],
    ["[::ffff:169.254.0.1]", "link-local, IPv4-mapped"],
  ]),
  ...entries(/^link-local \(fe80::\/10\)$/, [
    ["[fe80::1]", "link-local fe80::/10"],
    ["[febf:ffff::1]", "link-local fe80::/10, top"],
  ]),
  ...entries(/^CGNAT \(100\.64\.0\.0\/10\)/, [
    ["100.64.0.1", "CGNAT 100.64/10"],
    ["100.127.255.254", "CGNAT, top"],
    ["1681915905", "CGNAT, decimal"],
    ["[::ffff:100.64.0.1]", "CGNAT, IPv4-mapped"],
  ]),
  ...entries(/^multicast \(224\.0\.0\.0\/4\)/, [
    ["224.0.0.1", "multicast 224/4"],
    ["239.255.255.250", "multicast, SSDP"],
    ["[::ffff:224.0.0.1]", "multicast, IPv4-mapped"],
  ]),
  ...entries(/^multicast \(ff00::\/8\)$/, [
    ["[ff02::1]", "multicast ff00::/8"],
    ["[ff05::fb]", "multicast, site scope"],
  ]),
  ...entries(/^unspecified \(0\.0\.0\.0\/8\)/, [
    ["0.0.0.0", "unspecified 0/8"],
    ["0", "unspecified, decimal"],
    ["0.1.2.3", "this network 0/8"],
    ["[::ffff:0.0.0.0]", "unspecified, IPv4-mapped"],
  ]),
  ...entries(/^unspecified \(::\)$/, [["[::]", "unspecified IPv6"]]),
  ...entries(/^unique-local \(fc00::\/7\)$/, [
    ["[fc00::1]", "unique-local fc00::/7"],
    ["[fd12:3456:789a::1]", "unique-local fd00::/8"],
  ]),
  ...entries(/^broadcast/, [
    ["255.255.255.255", "broadcast"],
    ["4294967295", "broadcast, decimal"],
    ["0xffffffff", "broadcast, hex"],
    ["[::ffff:255.255.255.255]", "broadcast, IPv4-mapped"],
  ]),
  ...entries(/^reserved \(240\.0\.0\.0\/4\)/, [
    ["240.0.0.1", "reserved 240/4"],
    ["[::ffff:240.0.0.1]", "reserved, IPv4-mapped"],
  ]),
  ...entries(/^benchmark \(198\.18\.0\.0\/15\)/, [
    ["198.18.0.1", "benchmark 198.18/15"],
    ["198.19.255.254", "benchmark, top"],
    ["[::ffff:198.18.0.1]", "benchmark, IPv4-mapped"],
  ]),
  ...entries(/^documentation/, [
    ["192.0.2.1", "documentation TEST-NET-1"],
    ["198.51.100.1", "documentation TEST-NET-2"],
    ["203.0.113.1", "documentation TEST-NET-3"],
    ["[2001:db8::1]", "documentation IPv6"],
  ]),
  ...entries(/^(reserved|site-local|Teredo|NAT64 local-use|IPv4-compatible)/, [
    ["[fec0::1]", "site-local (deprecated)"],
    ["[2001::1]", "Teredo"],
    ["[64:ff9b:1::1]", "NAT64 local-use"],
    ["[::8.8.8.8]", "IPv4-compatible of a public address (deprecated form)"],
    ["[100::1]", "discard-only"],
    ["[4000::1]", "unallocated IPv6"],
  ]),
];
