import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { stackEnv } from "@ripen/config";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensureAdminToken } from "./admin-token";

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "ripen-admin-token-"));
});
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it("npm start without ADMIN_TOKEN makes one, keeps it across restarts, and replaces a short one", async () => {
  const file = path.join(dataDir, "admin-token");
  const first = await ensureAdminToken(file);
  expect(first.created).toBe(true);
  // A token ADMIN_TOKEN itself would accept.
  expect(stackEnv.shape.ADMIN_TOKEN.safeParse(first.token).success).toBe(true);
  expect((await readFile(file, "utf8")).trim()).toBe(first.token);
  expect((await stat(file)).mode & 0o077).toBe(0);

  expect(await ensureAdminToken(file)).toEqual({ token: first.token, created: false });

  await writeFile(file, "too-short\n");
  const replaced = await ensureAdminToken(file);
  expect(replaced.created).toBe(true);
  expect(replaced.token).not.toBe(first.token);
});
