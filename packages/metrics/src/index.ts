export * from "./definitions";
export {
  addRefresh,
  cached,
  httpMetrics,
  metricsHandler,
  metricsText,
  type Refresh,
} from "./serve";
export {
  circuitSource,
  creditsHeldSource,
  observeJobWait,
  poolSource,
  type QueueLike,
  queueSource,
  redisSource,
} from "./sources";
