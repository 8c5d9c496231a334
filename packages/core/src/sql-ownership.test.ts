/**
 * Where SQL of a kind may live (issue 14): credit movements (holds, captures, releases) only in
 * `ledger.ts`, and the active statuses only from `activeTaskStatuses`, never written out again.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.includes("node_modules"))
    .map((f) => path.join(dir, f));
}

const sources = [
  ...sourcesUnder(path.join(root, "packages/core/src")),
  ...readdirSync(path.join(root, "apps")).flatMap((app) =>
    sourcesUnder(path.join(root, "apps", app, "src")),
  ),
];
const relative = (file: string) => path.relative(root, file);

describe("SQL ownership", () => {
  it("writes ledger rows and moves held credits only in packages/core/src/ledger.ts", () => {
    const offenders = sources
      .filter((file) => !file.endsWith(path.join("packages/core/src/ledger.ts")))
      .filter((file) => {
        const text = readFileSync(file, "utf8");
        return (
          /insert into (ledger_entries|\$\{ledgerEntries\})/i.test(text) ||
          /held\s*=\s*\w*\.?held\b/i.test(text)
        );
      })
      .map(relative);
    expect(offenders).toEqual([]);
  });

  it("never writes the active statuses out: they come from activeTaskStatuses", () => {
    const offenders = sources
      .filter((file) => /'queued',\s*'submitting',\s*'running'/.test(readFileSync(file, "utf8")))
      .map(relative);
    expect(offenders).toEqual([]);
  });
});
