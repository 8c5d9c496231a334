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
  type QueueDepthLike,
  queueSource,
  redisSource,
} from "./sources";
