/**
 * The `ripen` command. User commands (`batch`, `schedule`) talk to the API over HTTP as any
 * client would, with RIPEN_API_URL and RIPEN_API_KEY (or --key); operator commands (`account`,
 * `credits`, `report`) work on the database in DATABASE_URL. Results go to stdout (JSON with
 * --json, for scripts); progress and everything else go to stderr. Use `npm run -s ripen -- …`
 * so npm's own banner stays off stdout.
 */
import { parseArgs } from "node:util";
import {
  ADMIN_USAGE,
  runAccount,
  runCredits,
  runKey,
  runPlan,
  runSubscription,
} from "./commands/admin";
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

${ADMIN_USAGE}

Operator commands on the database itself (DATABASE_URL, default
postgres://postgres:postgres@127.0.0.1:5432/ripen; pending migrations are applied first):
  npm run -s ripen -- account create --db --name NAME [--credits N] [--json]
      an account and its first (read, write) key, straight into the database
  npm run -s ripen -- credits grant --db ACCOUNT_ID N [--json]
  npm run -s ripen -- report margin [--since ISO_DATE] [--credit-usd 0.005] [--json]
      per provider: attempts, what the upstream charged (its credits and USD), what clients
      paid for the tasks it completed, and the margin (a Ripen credit worth --credit-usd)
  npm run -s ripen -- ledger check [--json]
      the books over the whole database (balance = grants − captures ± adjustments, held =
      open holds, available ≥ 0, one hold per task, one resolution per ended task, active-task
      counters, key spend windows): each drift with its rows; exit 1 on any
  npm run -s ripen -- usage [--account ID] [--from ISO_DATE] [--to ISO_DATE]
      [--group-by account,key,model,door,provider,day] [--credit-usd 0.005] [--csv | --json]
      tasks created in [from, to), grouped (default account,day): tasks, credits charged,
      upstream USD and margin USD`;

/** Marks a negative number (`credits adjust ACCOUNT -250`) that parseArgs would read as options. */
const NEGATIVE = "\u0000neg:";

function parse(argv: string[]) {
  try {
    const parsed = parseArgs({
      args: argv.map((arg) => (/^-\d+$/.test(arg) ? `${NEGATIVE}${arg.slice(1)}` : arg)),
      options,
      allowPositionals: true,
      strict: true,
    });
    const positionals = parsed.positionals.map((arg) =>
      arg.startsWith(NEGATIVE) ? `-${arg.slice(NEGATIVE.length)}` : arg,
    );
    return { values: parsed.values, positionals };
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
      if (group !== "report" && !given.db) {
        return group === "account"
          ? runAccount(command, rest, given)
          : runCredits(command, rest, given);
      }
      // Loaded only here: the user commands need no database driver.
      const operator = await import("./commands/operator");
      if (group === "account" && command === "create") return operator.accountCreate(rest, given);
      if (group === "credits" && command === "grant") return operator.creditsGrant(rest, given);
      if (group === "report" && command === "margin") return operator.reportMargin(rest, given);
      break;
    }
    case "ledger":
      if (command === "check") return (await import("./commands/ledger")).ledgerCheck(rest, given);
      break;
    case "usage":
      return (await import("./commands/usage")).usageReport(positionals.slice(1), given);
    case "plan":
      return runPlan(command, rest, given);
    case "subscription":
      return runSubscription(command, rest, given);
    case "key":
      return runKey(command, rest, given);
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
