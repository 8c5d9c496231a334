/**
 * REDIS_URL names one server (`redis://`, `rediss://` for TLS, read by ioredis as it is) or a
 * Redis Cluster: `redis+cluster://` (`rediss+cluster://`) with the cluster's seed nodes as a
 * comma-separated list, as libpq takes several hosts, e.g.
 * `redis+cluster://:secret@10.0.0.1:6379,10.0.0.2:6379`. Any seed that answers is enough: the
 * client learns the rest of the cluster from it, so the list need not name every node.
 */

export interface RedisClusterTarget {
  /** Seed nodes (a port left out is 6379). */
  nodes: { host: string; port: number }[];
  /** Each seed as a single server's URL (`redis://` or `rediss://`), credentials included. */
  seedUrls: string[];
  username?: string;
  password?: string;
  tls: boolean;
}

const DEFAULT_PORT = 6379;
const CLUSTER_SCHEME = /^rediss?\+cluster:\/\//i;
// scheme, optional user info (no "@", "/", "?" or "#" unencoded), host list, optional "/".
const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^@/?#]*)@)?([^/?#]*)\/?$/i;
const CLUSTER_FORM = "redis+cluster://[user:password@]host:port[,host:port…]";

export function isRedisClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

/**
 * The seeds and credentials of a `redis+cluster://` URL; null for a single server's URL. Throws,
 * with a message fit for a configuration error, when a cluster URL is malformed. A cluster has
 * only database 0, so a path naming another is refused rather than ignored.
 */
export function parseRedisClusterUrl(url: string): RedisClusterTarget | null {
  if (!isRedisClusterUrl(url)) return null;
  const match = CLUSTER_URL.exec(url);
  if (!match) throw new Error(`must be ${CLUSTER_FORM} (a cluster has no database path or query)`);
  const [, scheme = "", userInfo, hostList = ""] = match;
  const entries = hostList.split(",").map((entry) => entry.trim());
  const target: RedisClusterTarget = {
    nodes: entries.map(parseNode),
    seedUrls: entries.map((entry) => `${scheme}://${userInfo ? `${userInfo}@` : ""}${entry}`),
    tls: scheme.toLowerCase() === "rediss",
  };
  if (userInfo) {
    const colon = userInfo.indexOf(":");
    const username = decode(colon < 0 ? userInfo : userInfo.slice(0, colon));
    const password = colon < 0 ? "" : decode(userInfo.slice(colon + 1));
    if (username) target.username = username;
    if (password) target.password = password;
  }
  return target;
}

function parseNode(entry: string): { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(`redis://${entry}`);
  } catch {
    throw new Error(`must be ${CLUSTER_FORM}; "${entry}" is not a host:port`);
  }
  if (!entry || !parsed.hostname || parsed.username || parsed.password || parsed.pathname) {
    throw new Error(`must be ${CLUSTER_FORM}; "${entry}" is not a host:port`);
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port ? Number(parsed.port) : DEFAULT_PORT,
  };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new Error(`must be ${CLUSTER_FORM}; its user or password is not percent-encoded`);
  }
}

/**
 * The hash tag of a Redis key as a cluster reads it: what lies between the first "{" and the
 * next "}", when not empty. Keys with the same tag are in the same slot, which a cluster needs
 * for every script or transaction that touches several keys.
 */
export function redisHashTag(key: string): string | null {
  const open = key.indexOf("{");
  if (open < 0) return null;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : null;
}
