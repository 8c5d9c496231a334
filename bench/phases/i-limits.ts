import { createAccount } from "@ripen/core";
import { cannon } from "../lib/cannon";
import type { Phase } from "../lib/context";
import { CONNECTIONS, CREATE_BODY, log, plan } from "../lib/plan";
import { int } from "../lib/report";

const RATE_LIMIT = 1_000;
const SPEND_LIMIT = 4_000;

/**
 * One key hammered from 50 connections, worker not running: held at its request rate (per
 * minute, counted in Redis), then a key with an hourly spend limit, held at its credits. What
 * passes is exactly the limit's worth, and the rest are 429s.
 */
export const limits: Phase = {
  letter: "i",
  title: "limits",
  needs: {},
  async run(ctx) {
    const db = await ctx.createDatabase();
    const api = await ctx.startCreateApi("api (phase i)");
    try {
      const path = `${api.url}/v1/images/generations`;
      const keyWith = async (key: {
        rateLimitPerMinute?: number;
        spendLimits?: { hourly: number };
      }) =>
        (
          await createAccount(db.db, {
            name: "bench-i",
            credits: 100_000_000,
            key: { rateLimitPerMinute: 1_000_000_000, ...key },
          })
        ).apiKey;
      // The price the create charges, from the quote endpoint (a key of its own: not counted).
      const quote = await fetch(`${api.url}/v1/cost`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${await keyWith({})}`,
        },
        body: CREATE_BODY,
      });
      const price = ((await quote.json()) as { data: { credits: number } }).data.credits;
      const rows: string[][] = [];
      const hammer = async (label: string, key: string, limit: string, expected: number) => {
        log(`i: ${label}: ${plan.createS} s at ${CONNECTIONS} connections`);
        const statuses = new Map<number, number>();
        await cannon(path, {
          keys: [key],
          duration: plan.createS,
          onResponse: (status) => statuses.set(status, (statuses.get(status) ?? 0) + 1),
        });
        const accepted = statuses.get(200) ?? 0;
        const refused = statuses.get(429) ?? 0;
        const other = [...statuses].filter(([s]) => s !== 200 && s !== 429);
        rows.push([
          label,
          limit,
          int(accepted + refused + other.reduce((n, [, c]) => n + c, 0)),
          int(accepted),
          int(expected),
          int(refused),
          other.map(([s, c]) => `${c}×${s}`).join(" ") || "0",
          accepted === expected ? "held" : "NOT HELD",
        ]);
      };
      await hammer(
        "one key, request rate",
        await keyWith({ rateLimitPerMinute: RATE_LIMIT }),
        `${int(RATE_LIMIT)} per minute`,
        RATE_LIMIT,
      );
      await hammer(
        "one key, hourly spend",
        await keyWith({ spendLimits: { hourly: SPEND_LIMIT } }),
        `${int(SPEND_LIMIT)} credits per hour (${price} per task)`,
        Math.floor(SPEND_LIMIT / price),
      );
      return {
        title: `limits: one key hammered from ${CONNECTIONS} connections for ${plan.createS} s, worker not running`,
        header: ["key", "limit", "requests", "accepted", "limit allows", "429", "other", "result"],
        rows,
      };
    } finally {
      await api.service.stop();
    }
  },
};
