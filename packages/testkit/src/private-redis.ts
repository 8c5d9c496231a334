import { ensureRedis, freePort, type RedisService } from "@ripen/infra";

export interface PrivateRedis {
  url: string;
  /** Stops the server: its data is gone, as with this machine's Redis, which keeps nothing. */
  stop(): Promise<void>;
  /** Starts an empty server on the same port again. */
  start(): Promise<void>;
}

/**
 * A redis-server of the test's own, on a free port, so a test can stop, restart or flush it
 * without disturbing the other test files that share the machine's Redis.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const spawn = () => ensureRedis({ url, spawnFallback: true, log: () => {} });
  let service: RedisService | null = await spawn();
  return {
    url,
    async stop() {
      await service?.stop();
      service = null;
    },
    async start() {
      service ??= await spawn();
    },
  };
}
