export {
  type CheckResult,
  type HealthCheck,
  type HealthOptions,
  healthRouter,
  postgresCheck,
  redisCheck,
  serveHealth,
} from "./health";
export { freePort, isLocalHost, type Log, redactUrl, repoRoot } from "./local";
export { findPgBouncer, type PgBouncer, type PgBouncerOptions, startPgBouncer } from "./pgbouncer";
export {
  checkPostgres,
  type EnsurePostgresOptions,
  ensurePostgres,
  type PostgresService,
} from "./postgres";
export {
  closeServer,
  flushLogs,
  type Listening,
  listen,
  onShutdownSignal,
  Resources,
  runService,
  SERVICE_NODE_FLAGS,
  type ServiceLogger,
} from "./process";
export {
  checkRedis,
  type EnsureRedisOptions,
  ensureRedis,
  pingRedis,
  type RedisServerOptions,
  type RedisService,
  startRedisServer,
} from "./redis";
export {
  connectRedis,
  type RedisConnection,
  type RedisConnectionOptions,
} from "./redis-connection";
