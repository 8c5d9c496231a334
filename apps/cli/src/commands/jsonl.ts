import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

/** A problem with the user's input: printed plainly, exit code 1, nothing sent. */
export class InputError extends Error {}

export interface RequestsFile {
  /** Each line's create body, in file order (the API's `index`). */
  requests: Record<string, unknown>[];
  /** The 1-based line number of each request, to name lines in the API's per-item errors. */
  lines: number[];
}

/** Lines reported per file before "and N more", so a broken 10,000-line file stays readable. */
const MAX_REPORTED = 10;

/**
 * Reads a JSONL file of native create bodies (`{"model", "input", "callback_url"?}`), one per
 * line; blank lines are skipped. Every line that is not a JSON object is reported by its line
 * number, and then nothing is sent: the API validates the bodies themselves.
 */
export async function readRequestsFile(path: string): Promise<RequestsFile> {
  const input = createReadStream(path, { encoding: "utf8" });
  const opened = new Promise<void>((resolve, reject) => {
    input.once("open", () => resolve());
    input.once("error", reject);
  });
  try {
    await opened;
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const requests: Record<string, unknown>[] = [];
  const lines: number[] = [];
  const problems: string[] = [];
  let lineNumber = 0;
  for await (const raw of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNumber += 1;
    const line = lineNumber === 1 ? raw.replace(/^\uFEFF/, "") : raw;
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      problems.push(`line ${lineNumber}: not JSON (${(error as Error).message})`);
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      problems.push(`line ${lineNumber}: expected a JSON object like {"model": …, "input": {…}}`);
      continue;
    }
    requests.push(value as Record<string, unknown>);
    lines.push(lineNumber);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_REPORTED);
    const more = problems.length - shown.length;
    throw new InputError(
      `${path} has ${problems.length} bad line${problems.length === 1 ? "" : "s"}; nothing was sent.\n  ${shown.join("\n  ")}${more > 0 ? `\n  … and ${more} more` : ""}`,
    );
  }
  if (requests.length === 0) throw new InputError(`${path} has no requests; nothing was sent.`);
  return { requests, lines };
}
