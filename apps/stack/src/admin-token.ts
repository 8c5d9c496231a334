import { randomBytes } from "node:crypto";
import { readKey, writeKey } from "./demo-account";

/** ADMIN_TOKEN's own rule (`@ripen/config`): a kept token shorter than this is replaced. */
const MIN_LENGTH = 32;

/**
 * The operator's credential for `npm start` when ADMIN_TOKEN is unset: made once (32 random
 * bytes) and kept in `file`, beside the demo key, so a restart keeps the console's operator
 * signed in. Like the demo key it is a local convenience: a deployment sets ADMIN_TOKEN.
 */
export async function ensureAdminToken(file: string): Promise<{ token: string; created: boolean }> {
  const kept = await readKey(file);
  if (kept && kept.length >= MIN_LENGTH) return { token: kept, created: false };
  const token = randomBytes(32).toString("base64url");
  await writeKey(file, token);
  return { token, created: true };
}
