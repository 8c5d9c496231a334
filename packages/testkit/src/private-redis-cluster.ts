import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { freePort, type RedisService, startRedisServer } from "@ripen/infra";
import { Redis } from "ioredis";

export interface PrivateRedisCluster {
  /** REDIS_URL for the cluster (`redis+cluster://`, every master a seed). */
  url: string;
  /** Each master's own `redis://` URL, to ask one node directly. */
  nodeUrls: string[];
  /** Ends the servers and removes their directory. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;

/**
 * A Redis Cluster of the test's own: `masters` redis-servers (three, the fewest a cluster is
 * made of) in cluster mode on free ports, in memory (`--save "" --appendonly no`), their node
 * files in a temporary directory. The cluster is created with `redis-cli --cluster create`
 * (no replicas) and resolved once every node reports `cluster_state:ok`. Needs Redis 7 or later
 * (`--cluster-port`: each node's bus port is a free port too, not port + 10000).
 */
export async function startPrivateRedisCluster(masters = 3): Promise<PrivateRedisCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), "ripen-redis-cluster-"));
  const servers: RedisService[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports = await distinctFreePorts(masters * 2);
    const nodes = Array.from({ length: masters }, (_, i) => ({
      port: ports[2 * i]!,
      busPort: ports[2 * i + 1]!,
    }));
    const started = await Promise.allSettled(
      nodes.map(async ({ port, busPort }) => {
        const nodeDir = path.join(dir, String(port));
        await mkdir(nodeDir);
        return startRedisServer({
          url: `redis://127.0.0.1:${port}`,
          log: () => {},
          args: [
            ...["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"],
            ...["--cluster-port", String(busPort), "--dir", nodeDir],
          ],
        });
      }),
    );
    for (const result of started) if (result.status === "fulfilled") servers.push(result.value);
    const failed = started.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;

    const addresses = nodes.map(({ port }) => `127.0.0.1:${port}`);
    await promisify(execFile)("redis-cli", [
      ...["--cluster", "create", ...addresses],
      ...["--cluster-replicas", "0", "--cluster-yes"],
    ]);
    const nodeUrls = addresses.map((address) => `redis://${address}`);
    await Promise.all(nodeUrls.map(untilClusterOk));
    return { url: `redis+cluster://${addresses.join(",")}`, nodeUrls, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/**
 * Resolves once the node reports the cluster ok: `redis-cli --cluster create` returns when the
 * nodes have met, a moment before each has seen every slot covered. Redis has no event for it,
 * so the node is asked every 50 ms.
 */
async function untilClusterOk(nodeUrl: string): Promise<void> {
  const node = new Redis(nodeUrl, { maxRetriesPerRequest: 1 });
  node.on("error", () => {});
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let info = "";
    while (Date.now() < deadline) {
      info = (await node.cluster("INFO")) as string;
      if (/^cluster_state:ok\r?$/m.test(info)) return;
      await sleep(50);
    }
    throw new Error(`${nodeUrl}: the cluster was not ok in ${READY_TIMEOUT_MS} ms:\n${info}`);
  } finally {
    node.disconnect();
  }
}
