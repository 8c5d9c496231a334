import { parseRedisClusterUrl } from "@ripen/config";
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";

/** A connection to Ripen's Redis: one server, or a Redis Cluster (REDIS_URL `redis+cluster://`). */
export type RedisConnection = Redis | Cluster;

/** ioredis options, less where to connect: the URL says that. */
export type RedisConnectionOptions = Omit<
  RedisOptions,
  "host" | "port" | "path" | "sentinels" | "readOnly" | "username" | "password"
>;

/**
 * Every Redis connection Ripen makes is made here, so each process runs on one server or on a
 * Cluster by REDIS_URL alone. `options` are written as for one server; for a Cluster, those
 * that ioredis takes for the whole cluster (offline queue, lazy connect, auto-pipelining, ready
 * check, reconnecting) go to the Cluster, and the rest (timeouts, retries per request, the
 * connection's name) to each node's connection, where BullMQ looks for them.
 */
export function connectRedis(url: string, options: RedisConnectionOptions = {}): RedisConnection {
  const cluster = parseRedisClusterUrl(url);
  if (!cluster) return new Redis(url, options);
  const {
    enableOfflineQueue,
    lazyConnect,
    enableAutoPipelining,
    enableReadyCheck,
    retryStrategy,
    ...nodeOptions
  } = options;
  const clusterOptions: ClusterOptions = {
    enableOfflineQueue,
    lazyConnect,
    enableAutoPipelining,
    enableReadyCheck,
    clusterRetryStrategy: retryStrategy,
    redisOptions: {
      username: cluster.username,
      password: cluster.password,
      tls: cluster.tls ? {} : undefined,
      ...nodeOptions,
    },
  };
  return new Cluster(cluster.nodes, withoutUndefined(clusterOptions));
}

// ioredis merges options over its defaults with Object.assign, where an undefined value would
// replace a default (an undefined enableOfflineQueue turns the offline queue off).
function withoutUndefined(options: ClusterOptions): ClusterOptions {
  const defined = <T extends object>(value: T): T =>
    Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
  return defined({ ...options, redisOptions: defined(options.redisOptions ?? {}) });
}
