export { isLocalHost, type Log, redactUrl, repoRoot } from "./local";
export { type EnsurePostgresOptions, ensurePostgres, type PostgresService } from "./postgres";
export {
  closeServer,
  flushLogs,
  type Listening,
  listen,
  onShutdownSignal,
  Resources,
  runService,
  type ServiceLogger,
} from "./process";
export { type EnsureRedisOptions, ensureRedis, pingRedis, type RedisService } from "./redis";
