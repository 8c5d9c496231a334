import { randomBytes } from "node:crypto";
import { checkLedger } from "@ripen/core";
import { createDb, type DbHandle } from "@ripen/db";
import pg from "pg";
import { inject } from "vitest";
import "./provided";
import {
  listenForTransitions,
  type TransitionNotices,
  testNotifyTriggerSql,
} from "./wait-for-task";

export interface TestDatabase extends DbHandle {
  url: string;
  name: string;
  /** Transition notices, on one listening connection of their own (opened on first use). */
  notices(): Promise<TransitionNotices>;
  /**
   * Checks the ledger (`checkLedger`), closes the pool and drops the database; fails the file
   * when the ledger drifted, so every test file ends with its books balanced. A test that
   * breaks the ledger on purpose passes `{ expectDrift: true }`.
   */
  drop(options?: { expectDrift?: boolean }): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh database for one test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject("pgAdminUrl");
  const template = inject("pgTemplate");
  const name = `ripen_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Two clones of one template at the same instant can collide (55006): try again shortly.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`create database ${name} template ${template}`);
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== "55006" || attempt >= 50) throw error;
        await sleep(100);
      }
    }
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = createDb(url.toString(), { max: 20 });
  await handle.pool.query(testNotifyTriggerSql);
  let listener: ReturnType<typeof listenForTransitions> | undefined;
  return {
    ...handle,
    url: url.toString(),
    name,
    async notices() {
      listener ??= listenForTransitions(url.toString());
      return (await listener).notices;
    },
    async drop(options = {}) {
      // Checked first, while the pool is open; the database is dropped whatever the check met.
      let checkFailed: unknown;
      const drift = options.expectDrift
        ? []
        : await checkLedger(handle.db).then(
            (check) => check.drift,
            (error: unknown) => {
              checkFailed = error;
              return [];
            },
          );
      if (listener) await (await listener).close();
      await handle.close();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client
        .query(`drop database if exists ${name} with (force)`)
        .finally(() => client.end());
      if (checkFailed) throw checkFailed;
      if (drift.length > 0) {
        throw new Error(
          `ledger check: ${drift.length} drift: ${JSON.stringify(drift.slice(0, 5))}`,
        );
      }
    },
  };
}
