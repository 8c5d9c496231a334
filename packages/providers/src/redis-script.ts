import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";

const shas = new Map<string, string>();
function shaOf(script: string): string {
  let sha = shas.get(script);
  if (!sha) {
    sha = createHash("sha1").update(script).digest("hex");
    shas.set(script, sha);
  }
  return sha;
}

/**
 * Runs a Lua script by its hash, sending its text only when Redis does not have it yet. Several
 * commands in one script rather than a pipeline: building an ioredis pipeline copies every
 * script defined on the connection, and the connections BullMQ shares carry dozens.
 */
export async function runScript(
  redis: Redis | Cluster,
  script: string,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(shaOf(script), keys.length, ...keys, ...args);
  } catch (error) {
    if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
    return redis.eval(script, keys.length, ...keys, ...args);
  }
}
