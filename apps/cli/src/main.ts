/**
 * The `ripen` command. User commands (`batch`, `schedule`) talk to the API over HTTP as any
 * client would, with RIPEN_API_URL and RIPEN_API_KEY (or --key); operator commands (`account`,
 * `credits`, `report`) work on the database in DATABASE_URL. Results go to stdout (JSON with
 * --json, for scripts); progress and everything else go to stderr. Use `npm run -s ripen -- …`
 * so npm's own banner stays off stdout.
 */
import { parseArgs } from "node:util";
import { BATCH_USAGE, runBatch } from "./commands/batch";
import { ApiError, ApiUnreachable, describeError } from "./commands/http";
import { InputError } from "./commands/jsonl";
import { options, UsageError, type Values } from "./commands/options";
import { runSchedule, SCHEDULE_USAGE } from "./commands/schedule";

const USAGE = `Usage:
${BATCH_USAGE}
${SCHEDULE_USAGE}

  User commands call the API at RIPEN_API_URL (default http://127.0.0.1:3000, or --api-url)
  with the key in RIPEN_API_KEY (or --key).

Operator commands (DATABASE_URL, default postgres://postgres:postgres@127.0.0.1:5432/ripen;
pending migrations are applied first):
  npm run -s ripen -- account create --name NAME [--credits N] [--json]
  npm run -s ripen -- credits grant ACCOUNT_ID N [--json]
  npm run -s ripen -- report margin [--since ISO_DATE] [--credit-usd 0.005] [--json]
      per provider: attempts, what the upstream charged (its credits and USD), what clients
      paid for the tasks it completed, and the margin (a Ripen credit worth --credit-usd)`;

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Runs one command; answers its exit code. */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [group, command, ...rest] = positionals;
  const given = values as Values;
  switch (group) {
    case "batch":
      return runBatch(command, rest, given);
    case "schedule":
      return runSchedule(command, rest, given);
    case "account":
    case "credits":
    case "report": {
      // Loaded only here: the user commands need no database driver.
      const operator = await import("./commands/operator");
      if (group === "account" && command === "create") return operator.accountCreate(rest, given);
      if (group === "credits" && command === "grant") return operator.creditsGrant(rest, given);
      if (group === "report" && command === "margin") return operator.reportMargin(rest, given);
      break;
    }
  }
  throw new UsageError(
    positionals.length ? `Unknown command: ${positionals.join(" ")}` : "No command given.",
  );
}

/** An API error as the envelope gave it, with each item it named (and its line, when known). */
function describeApiError(error: ApiError): string {
  const lines = [`ripen: ${error.message} (${error.code}, HTTP ${error.status})`];
  const shown = error.items.slice(0, 20);
  for (const item of shown) {
    const where =
      item.line === undefined ? `item ${item.index}` : `line ${item.line} (item ${item.index})`;
    lines.push(`  ${where}: ${item.message}`);
  }
  if (error.items.length > shown.length) {
    lines.push(`  … and ${error.items.length - shown.length} more`);
  }
  return lines.join("\n");
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`ripen: ${error.message}\n\n${USAGE}`);
  } else if (error instanceof ApiError) {
    console.error(describeApiError(error));
  } else if (error instanceof ApiUnreachable || error instanceof InputError) {
    console.error(`ripen: ${error.message}`);
  } else {
    // DomainError (AccountNotFound, InvalidRequest): the operator's mistake, said plainly.
    console.error(`ripen: ${describeError(error)}`);
  }
  process.exitCode = 1;
}
