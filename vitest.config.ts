import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["apps/*/src/**/*.test.ts", "packages/**/src/**/*.test.ts", "chaos/**/*.test.ts"],
    globalSetup: ["packages/testkit/src/global-setup.ts"],
    // Each file gets its own database and queue prefix, so files run in parallel safely.
    pool: "forks",
    // Vitest's default is one fork fewer than the cores: on a 2-core machine, one file at a time.
    // Most files wait on I/O (HTTP, Postgres, Redis, timers), so three share two cores well.
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "./packages/testkit/src/summary-reporter.ts"],
  },
});
