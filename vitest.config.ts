import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["apps/*/src/**/*.test.ts", "packages/**/src/**/*.test.ts", "chaos/**/*.test.ts"],
    globalSetup: ["packages/testkit/src/global-setup.ts"],
    // Each file gets its own database and queue prefix, so files run in parallel safely.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "./packages/testkit/src/summary-reporter.ts"],
  },
});
