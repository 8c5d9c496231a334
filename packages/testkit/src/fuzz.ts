import { type Agent, request as httpRequest } from "node:http";
import { deflateSync, gzipSync } from "node:zlib";

/**
 * A seeded mutation generator for HTTP endpoints. Given one valid request (method, path, JSON
 * body), it produces any number of deterministic variants that are malformed at every layer: the
 * JSON values and keys, the JSON text, the bytes and their encoding, the headers, the path. The
 * same seed and index always give the same case, so a failure is reproduced by its index alone.
 */

/** One request to send. Everything is raw so that it can be wrong at any layer. */
export interface FuzzCase {
  index: number;
  /** The mutations applied, for failure messages. */
  label: string;
  method: string;
  /**
   * The request target as sent: may hold broken percent-encoding, but only characters an HTTP
   * request line allows (anything else is percent-encoded), so the server's parser accepts it.
   */
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

/** The valid request the mutations start from. */
export interface FuzzTarget {
  method: string;
  /** e.g. `/v1/tasks/task_01k…`; its segments are mutated too. */
  path: string;
  /** A valid JSON body; leave out for requests without one. */
  body?: unknown;
  /** Headers of the valid request, e.g. authorization. */
  headers?: Record<string, string>;
}

export interface FuzzOptions {
  /** Fixed seed; the same seed gives the same cases. */
  seed: number;
  count: number;
}

/** `count` deterministic mutations of `target`. */
export function fuzzCases(target: FuzzTarget, options: FuzzOptions): FuzzCase[] {
  return Array.from({ length: options.count }, (_, index) => fuzzCase(target, options.seed, index));
}

/** The `index`th mutation of `target` under `seed`, independent of every other index. */
export function fuzzCase(target: FuzzTarget, seed: number, index: number): FuzzCase {
  const rng = new Rng(seed, index);
  const request: Draft = {
    method: target.method,
    path: target.path,
    headers: { ...target.headers },
    json: target.body === undefined ? undefined : toTree(target.body),
    labels: [],
  };
  if (request.json !== undefined) request.headers["content-type"] = "application/json";

  const layers: Array<[number, (r: Draft, rng: Rng) => void]> =
    request.json === undefined
      ? [
          [55, mutatePath],
          [10, mutateQuery],
          [15, attachBody],
          [10, mutateHeaders],
          [10, mutateMethod],
        ]
      : [
          [45, mutateJsonTree],
          [10, mutateJsonText],
          [25, mutateBytes],
          [8, mutatePath],
          [7, mutateHeaders],
          [5, mutateMethod],
        ];
  const rounds = rng.pick([1, 1, 1, 2, 2, 3]);
  for (let i = 0; i < rounds; i++) rng.weighted(layers)(request, rng);
  return finish(request, index);
}

// --- Randomness ------------------------------------------------------------------------------

/** xorshift32 over a seed mixed with the case index: small, fast, and the same everywhere. */
class Rng {
  private state: number;
  constructor(seed: number, index: number) {
    let h = (seed ^ 0x9e3779b9) >>> 0;
    h = Math.imul(h ^ (index + 1), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    this.state = (h ^ (h >>> 16)) >>> 0 || 0x1234567;
  }
  /** A float in [0, 1). */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x1_0000_0000;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  weighted<T>(items: ReadonlyArray<readonly [number, T]>): T {
    const total = items.reduce((sum, [w]) => sum + w, 0);
    let roll = this.next() * total;
    for (const [weight, item] of items) {
      roll -= weight;
      if (roll < 0) return item;
    }
    return items[items.length - 1]![1];
  }
  bytes(length: number): Uint8Array {
    return Uint8Array.from({ length }, () => this.int(256));
  }
}

// --- The request being built -----------------------------------------------------------------

interface Draft {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The body as a JSON tree, until a text or byte mutation turns it into bytes. */
  json?: Json;
  text?: string;
  bytes?: Uint8Array;
  labels: string[];
}

function finish(request: Draft, index: number): FuzzCase {
  let body = request.bytes;
  if (body === undefined && request.text !== undefined) body = utf8(request.text);
  if (body === undefined && request.json !== undefined) body = utf8(serialize(request.json));
  return {
    index,
    label: request.labels.join(" + ") || "unchanged",
    method: request.method,
    path: request.path,
    headers: request.headers,
    body,
  };
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** The body as text, whatever stage it is at. */
function bodyText(request: Draft): string {
  if (request.text !== undefined) return request.text;
  if (request.json !== undefined) return serialize(request.json);
  return "";
}

function bodyBytes(request: Draft): Uint8Array {
  return request.bytes ?? utf8(bodyText(request));
}

// --- JSON as a tree that can say what JSON.stringify cannot ----------------------------------

/** Object entries in order, duplicates and "__proto__" included (a plain object would lose them). */
class JsonObject {
  constructor(readonly entries: Array<[string, Json]>) {}
}

/** Text written as is: 1e309, -0, NaN, a deeply nested literal. */
class Raw {
  constructor(readonly text: string) {}
}

type Json = null | boolean | number | string | Json[] | JsonObject | Raw;

function toTree(value: unknown): Json {
  if (Array.isArray(value)) return value.map(toTree);
  if (value !== null && typeof value === "object") {
    return new JsonObject(Object.entries(value).map(([k, v]) => [k, toTree(v)]));
  }
  return value as Json;
}

function serialize(node: Json): string {
  if (node instanceof Raw) return node.text;
  if (node instanceof JsonObject) {
    return `{${node.entries.map(([k, v]) => `${JSON.stringify(k)}:${serialize(v)}`).join(",")}}`;
  }
  if (Array.isArray(node)) return `[${node.map(serialize).join(",")}]`;
  return JSON.stringify(node);
}

/** Every place in the tree a value sits, as a getter/setter pair with a readable path. */
interface Slot {
  path: string;
  get(): Json;
  set(value: Json): void;
}

function slots(root: { value: Json }): Slot[] {
  const found: Slot[] = [
    {
      path: "$",
      get: () => root.value,
      set: (v) => {
        root.value = v;
      },
    },
  ];
  const walk = (node: Json, path: string) => {
    if (node instanceof JsonObject) {
      for (const entry of node.entries) {
        const at = `${path}.${entry[0]}`;
        found.push({
          path: at,
          get: () => entry[1],
          set: (v) => {
            entry[1] = v;
          },
        });
        walk(entry[1], at);
      }
    } else if (Array.isArray(node)) {
      // Large arrays: their first items stand for the rest.
      for (let i = 0; i < Math.min(node.length, 16); i++) {
        const at = `${path}[${i}]`;
        found.push({
          path: at,
          get: () => node[i]!,
          set: (v) => {
            node[i] = v;
          },
        });
        walk(node[i]!, at);
      }
    }
  };
  walk(root.value, "$");
  return found;
}

const PROTOTYPE_NAMES = [
  "__proto__",
  "constructor",
  "toString",
  "prototype",
  "valueOf",
  "hasOwnProperty",
  "__defineGetter__",
];

/** Strings that have broken parsers, databases and lookups before. */
function hostileString(rng: Rng): string {
  return rng.weighted<() => string>([
    [6, () => "\u0000"],
    [6, () => `a\u0000b`],
    [6, () => rng.pick(["\ud800", "\udfff", "x\ud83d", "\ude00y", "\udbff\udbff"])],
    [6, () => rng.pick(PROTOTYPE_NAMES)],
    [3, () => ""],
    [2, () => rng.pick([" ", "\t\n\r", "\u00a0", "\u200b", "\u202e", "\ufeff"])],
    [3, () => rng.pick(["NaN", "Infinity", "-0", "1e309", "null", "undefined", "true"])],
    [4, () => "a".repeat(rng.pick([2_048, 2_049, 20_000, 20_001, 100_000]))],
    [2, () => "😀".repeat(rng.pick([10_000, 20_001]))],
    [
      6,
      () =>
        rng.pick([
          `https://example.com/${"a".repeat(rng.pick([2_000, 2_100, 100_000]))}`,
          "https://example.com/\u0000.png",
          "https://example.com/\ud800.png",
          "https://\u0000example.com/",
          "http://[::1]:0/",
          "javascript:alert(1)",
          "file:///etc/passwd",
          "ftp://example.com/a.png",
          "https://",
          "//example.com/a.png",
          "https://example.com/%E0%A4%A",
          "https://user:pass@example.com/a.png",
        ]),
    ],
    [
      5,
      () =>
        rng.pick([
          "nano-banana-2",
          "nano-banana-2-lite",
          "nano-banana-3",
          "NANO-BANANA-2",
          "1K",
          "2K",
          "4K",
          "8K",
          "auto",
          "16:9",
          "7:5",
          "png",
          "jpg",
          "webp",
        ]),
    ],
    [2, () => rng.pick(["%00", "%E0%A4%A", "\\u0000", "\\ud800", "'; drop table tasks; --"])],
    [
      3,
      () => String.fromCharCode(...Array.from({ length: 1 + rng.int(12) }, () => rng.int(0x10000))),
    ],
  ])();
}

/** Any JSON value a field should not (or should just barely) accept. */
function hostileValue(rng: Rng): Json {
  return rng.weighted<() => Json>([
    [10, () => hostileString(rng)],
    [
      4,
      () =>
        new Raw(rng.pick(["1e309", "-1e309", "-0", "1e-400", "9007199254740993", "0.1e1", "-1"])),
    ],
    [3, () => rng.pick([0, 1, -1, 1.5, 36, 2 ** 31, Number.MAX_SAFE_INTEGER])],
    [3, () => rng.pick([true, false, null])],
    [3, () => rng.pick<Json>([[], new JsonObject([]), [null], [""], [[]]])],
    [2, () => new JsonObject([[rng.pick(PROTOTYPE_NAMES), new JsonObject([["polluted", true]])]])],
    [
      3,
      () => {
        const depth = rng.pick([100, 1_000, 10_000, 50_000]);
        return rng.chance(0.5)
          ? new Raw(`${"[".repeat(depth)}${"]".repeat(depth)}`)
          : new Raw(`${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`);
      },
    ],
    [
      3,
      () => {
        const length = rng.pick([15, 100, 10_000, 20_000]);
        const item = rng.pick<Json>([0, "https://example.com/a.png", null, "\u0000"]);
        return Array.from({ length }, () => item);
      },
    ],
  ])();
}

function mutateJsonTree(request: Draft, rng: Rng): void {
  // Once the body is text or bytes, the tree is gone: mutate what there is.
  if (request.json === undefined || request.text !== undefined || request.bytes !== undefined) {
    mutateBytes(request, rng);
    return;
  }
  const root = { value: request.json };
  const all = slots(root);
  const objects = all.filter((s) => s.get() instanceof JsonObject);
  // Once the root is no longer an object, only value mutations apply.
  const objectWeight = objects.length > 0 ? 1 : 0;
  const slot = rng.pick(all);
  const mutation = rng.weighted<() => string>([
    [
      40,
      () => {
        slot.set(hostileValue(rng));
        return `${slot.path}=hostile`;
      },
    ],
    [
      20 * objectWeight,
      () => {
        const target = rng.pick(objects);
        const key = rng.weighted<() => string>([
          [5, () => rng.pick(PROTOTYPE_NAMES)],
          [2, () => rng.pick(["", "\u0000", "\ud800", "a\u0000", " prompt", "Prompt"])],
          [2, () => rng.pick(["seed", "aspectRatio", "webhook", "image_url", "n"])],
          [3, () => (target.get() as JsonObject).entries[0]?.[0] ?? "x"], // a duplicate key
        ])();
        (target.get() as JsonObject).entries.push([key, hostileValue(rng)]);
        return `${target.path}+key(${JSON.stringify(key).slice(0, 20)})`;
      },
    ],
    [
      12 * objectWeight,
      () => {
        const target = rng.pick(objects).get() as JsonObject;
        if (target.entries.length) target.entries.splice(rng.int(target.entries.length), 1);
        return "delete-key";
      },
    ],
    [
      8,
      () => {
        slot.set(rng.chance(0.5) ? [slot.get()] : new JsonObject([["value", slot.get()]]));
        return `${slot.path}=wrapped`;
      },
    ],
    [
      10,
      () => {
        slot.set(
          new Raw(rng.pick(["NaN", "Infinity", "undefined", "'x'", "0x10", "+1", "01", "1."])),
        );
        return `${slot.path}=invalid-literal`;
      },
    ],
    [
      10,
      () => {
        const value = slot.get();
        if (typeof value === "string" && value.length > 0) {
          const at = rng.int(value.length + 1);
          slot.set(value.slice(0, at) + hostileString(rng).slice(0, 50) + value.slice(at));
        } else slot.set(hostileString(rng));
        return `${slot.path}=spliced`;
      },
    ],
  ])();
  request.json = root.value;
  request.labels.push(`json:${mutation}`);
}

function mutateJsonText(request: Draft, rng: Rng): void {
  const text = bodyText(request);
  const at = rng.int(text.length + 1);
  const mutation = rng.weighted<() => [string, string]>([
    [3, () => ["truncated", text.slice(0, at)]],
    [
      2,
      () => [
        "garbage",
        text.slice(0, at) + rng.pick(["}", "{", ",", '"', "\\", ":"]) + text.slice(at),
      ],
    ],
    [2, () => ["trailing", `${text}${rng.pick(["x", ",", "}", " {}", "\u0000"])}`]],
    [
      3,
      () => [
        "replaced",
        rng.pick(["", " ", "null", "[]", '"a string"', "123", "true", "{", "}", "{}", "[{}]"]),
      ],
    ],
    [1, () => ["bom", `\ufeff${text}`]],
    [1, () => ["comments", `/* c */${text}`]],
  ])();
  request.text = mutation[1];
  request.bytes = undefined;
  request.labels.push(`text:${mutation[0]}`);
}

/** Invalid UTF-8: overlong, surrogate, out of range, lone continuation, truncated sequences. */
const INVALID_UTF8 = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
];

function mutateBytes(request: Draft, rng: Rng): void {
  const plain = bodyBytes(request);
  const gzipped = () => gzipSync(plain);
  const mutation = rng.weighted<() => string>([
    [
      4,
      () => {
        // Inside a string value when there is one, so the JSON stays JSON.
        const quote = plain.indexOf(0x22, plain.indexOf(0x3a));
        const at = quote >= 0 ? quote + 1 : rng.int(plain.length + 1);
        const bad = rng.pick(INVALID_UTF8);
        request.bytes = Uint8Array.from([...plain.subarray(0, at), ...bad, ...plain.subarray(at)]);
        return `invalid-utf8(${bad.map((b) => b.toString(16)).join(" ")})`;
      },
    ],
    [
      3,
      () => {
        request.bytes = gzipped();
        request.headers["content-encoding"] = "gzip";
        return "gzip";
      },
    ],
    [
      3,
      () => {
        request.bytes = rng.chance(0.5) ? plain : rng.bytes(1 + rng.int(64));
        request.headers["content-encoding"] = "gzip";
        return "gzip-header-not-gzip";
      },
    ],
    [
      3,
      () => {
        const full = gzipped();
        request.bytes = full.subarray(0, 1 + rng.int(Math.max(1, full.length - 1)));
        request.headers["content-encoding"] = "gzip";
        return "gzip-truncated";
      },
    ],
    [
      2,
      () => {
        const full = Uint8Array.from(gzipped());
        for (let i = 10; i < full.length; i += 1 + rng.int(4)) full[i] = rng.int(256);
        request.bytes = full;
        request.headers["content-encoding"] = "gzip";
        return "gzip-corrupted";
      },
    ],
    [
      1,
      () => {
        request.bytes = gzipSync(gzipped());
        request.headers["content-encoding"] = "gzip";
        return "gzip-of-gzip";
      },
    ],
    [
      2,
      () => {
        request.bytes = rng.chance(0.5) ? deflateSync(plain) : gzipped();
        request.headers["content-encoding"] = rng.pick(["deflate", "br", "gzip, gzip"]);
        return `encoding(${request.headers["content-encoding"]})`;
      },
    ],
    [
      2,
      () => {
        request.bytes = plain;
        request.headers["content-encoding"] = rng.pick(["compress", "zstd", "identity", "x", ""]);
        return `encoding(${request.headers["content-encoding"]})`;
      },
    ],
    [
      4,
      () => {
        request.bytes = plain;
        const type = rng.pick([
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=x",
          "application/xml",
          "application/json; charset=latin1",
          "application/json; charset=utf-16",
          "application/json; charset=bogus",
          "application/json; charset=utf-8; extra=1",
          "*/*",
          "]]]",
          "",
        ]);
        if (type) request.headers["content-type"] = type;
        else delete request.headers["content-type"];
        return `content-type(${type || "none"})`;
      },
    ],
    [
      1,
      () => {
        request.bytes = Uint8Array.from([
          0xff,
          0xfe,
          ...new Uint8Array(Buffer.from(bodyText(request), "utf16le")),
        ]);
        request.headers["content-type"] = "application/json; charset=utf-16";
        return "utf-16";
      },
    ],
    [
      1,
      () => {
        request.bytes = rng.bytes(rng.pick([1, 16, 1_024]));
        return "random-bytes";
      },
    ],
  ])();
  request.text = undefined;
  request.labels.push(`bytes:${mutation}`);
}

/**
 * Percent-encodes what an HTTP request line cannot carry, leaving "%" alone (broken on purpose).
 * A lone surrogate has no UTF-8 form; it becomes the bytes a careless encoder would write for it.
 */
function requestTarget(text: string): string {
  const encode = (ch: string) => {
    if (/^[\u0021-\u007e]$/.test(ch)) return ch;
    if (/^[\ud800-\udfff]$/.test(ch)) return "%ED%A0%80";
    return encodeURIComponent(ch);
  };
  return Array.from(text, encode).join("");
}

function hostileSegment(rng: Rng, original: string): string {
  return rng.weighted<() => string>([
    [
      8,
      () => rng.pick(["%", "%E0%A4%A", "%ZZ", "%G0", "%%", "%C0%80", "%ED%A0%80", "%FF", "%u0041"]),
    ],
    [6, () => rng.pick(["%00", `${original}%00`, `task_%00${original.slice(6)}`, "%00%00"])],
    [5, () => rng.pick(PROTOTYPE_NAMES)],
    [3, () => rng.pick(["..", ".", "%2e%2e", "%2F", "a%2Fb", ";", "~", "*"])],
    [4, () => original.toUpperCase()],
    [4, () => original.slice(0, rng.int(original.length))],
    [4, () => `${original}${rng.pick(["0", "x", "-", "_", "%20"])}`],
    [3, () => `task_${"0123456789abcdefghjkmnpqrstvwxyz"[rng.int(32)]!.repeat(26)}`],
    [3, () => `task_${rng.pick(["i", "l", "o", "u", "I", "U"]).repeat(26)}`],
    // Long, but the whole request head stays under Node's 16 KB limit (else a bare 431).
    [3, () => "a".repeat(rng.pick([27, 1_000, 3_000]))],
    [4, () => requestTarget(hostileString(rng).slice(0, 200))],
  ])();
}

function mutatePath(request: Draft, rng: Rng): void {
  const [pathname = "", query] = request.path.split("?");
  const segments = pathname.split("/");
  const mutation = rng.weighted<() => string>([
    [
      12,
      () => {
        const at = segments.length - 1;
        segments[at] = hostileSegment(rng, segments[at] ?? "");
        return `segment(${segments[at]!.slice(0, 24)})`;
      },
    ],
    [
      3,
      () => {
        const at = 1 + rng.int(Math.max(1, segments.length - 1));
        segments[at] = hostileSegment(rng, segments[at] ?? "");
        return `segment${at}`;
      },
    ],
    [
      3,
      () => {
        const shape = rng.pick(["trailing-slash", "double-slash", "extra-segment", "empty-last"]);
        if (shape === "trailing-slash") segments.push("");
        else if (shape === "double-slash") segments.splice(1, 0, "");
        else if (shape === "extra-segment") segments.push(hostileSegment(rng, "x"));
        else segments[segments.length - 1] = "";
        return shape;
      },
    ],
    [
      1,
      () => {
        for (let i = 0; i < segments.length; i++) segments[i] = segments[i]!.toUpperCase();
        return "upper-case";
      },
    ],
  ])();
  request.path = segments.join("/") + (query === undefined ? "" : `?${query}`);
  request.labels.push(`path:${mutation}`);
}

function mutateQuery(request: Draft, rng: Rng): void {
  const query = rng.pick([
    "__proto__[polluted]=1",
    "constructor[prototype][polluted]=1",
    "a=%ZZ",
    "a=%E0%A4%A",
    "%00=%00",
    "toString=1&valueOf=2",
    "a[]=1&a[]=2",
    "a=1&".repeat(750),
    "a".repeat(3_000),
  ]);
  request.path = `${request.path.split("?")[0]}?${query}`;
  request.labels.push(`query(${query.slice(0, 20)})`);
}

function attachBody(request: Draft, rng: Rng): void {
  request.json = rng.chance(0.5) ? toTree({ model: "nano-banana-2" }) : new Raw("{");
  request.headers["content-type"] = "application/json";
  mutateBytes(request, rng);
  request.labels.push("with-body");
}

function mutateHeaders(request: Draft, rng: Rng): void {
  const auth = request.headers.authorization ?? "";
  const key = auth.replace(/^Bearer\s+/i, "");
  const mutation = rng.weighted<() => string>([
    [
      6,
      () => {
        const value = rng.pick([
          "",
          "Bearer",
          "Bearer ",
          `bearer ${key}`,
          `BEARER   ${key}  `,
          `Basic ${key}`,
          `Bearer ${key}x`,
          `Bearer ${key.slice(0, -1)}`,
          `Bearer ${key} extra`,
          `Bearer sk-${"a".repeat(4_000)}`,
          "Bearer sk-\u00e9\u00ff",
          `Bearer ${key.toUpperCase()}`,
        ]);
        if (value) request.headers.authorization = value;
        else delete request.headers.authorization;
        return `authorization(${value.slice(0, 16)})`;
      },
    ],
    [
      2,
      () => {
        const [name, value] = rng.pick([
          ["x-http-method-override", "DELETE"],
          ["x-forwarded-for", "\u00ff"],
          ["accept", "text/html"],
          ["accept-encoding", "gzip, br"],
          ["x-request-id", "a".repeat(2_000)],
        ] as const);
        request.headers[name] = value;
        return `header(${name})`;
      },
    ],
  ])();
  request.labels.push(`headers:${mutation}`);
}

function mutateMethod(request: Draft, rng: Rng): void {
  request.method = rng.pick(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
  request.labels.push(`method(${request.method})`);
}

/** Sends a case as is, over a plain socket: fetch would normalize the path and the headers. */
export function sendFuzzCase(
  baseUrl: string,
  mutation: FuzzCase,
  agent?: Agent,
): Promise<{ status: number; text: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: mutation.method,
        path: mutation.path,
        headers: {
          ...mutation.headers,
          ...(mutation.body ? { "content-length": String(mutation.body.length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(mutation.body);
  });
}
