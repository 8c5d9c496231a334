import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const fixture = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "testing",
  "failed-start.fixture.ts",
);

describe("runService", () => {
  // A chaos run's worker failed to start when Postgres restarted under it, then hung in its
  // close for the two minutes the run waited, neither serving nor exiting to be restarted.
  it("exits with 1 after a failed start even when a resource never finishes closing", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", fixture], {
      env: { ...process.env, SHUTDOWN_TIMEOUT_MS: "300" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    try {
      const [code] = await once(child, "exit");
      expect(code).toBe(1);
      expect(output).toContain("stuck failed to start");
    } finally {
      child.kill("SIGKILL");
    }
  }, 20_000);
});
