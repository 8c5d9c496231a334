import { type ChildProcessByStdio, spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const mainTs = fileURLToPath(new URL("./main.ts", import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI process running: its output so far, and how it ended once it has. */
export interface RunningCli {
  child: ChildProcessByStdio<null, Readable, Readable>;
  output: { stdout: string; stderr: string };
  done: Promise<CliRun>;
}

/** Starts the CLI in a child process (stdout and stderr are pipes, so not a terminal). */
export function startCli(args: string[], env: Record<string, string | undefined> = {}): RunningCli {
  const child = spawn(process.execPath, ["--import", "tsx", mainTs, ...args], {
    cwd: repoRoot,
    env: { ...process.env, RIPEN_API_URL: undefined, RIPEN_API_KEY: undefined, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    output.stderr += chunk;
  });
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, ...output }));
  });
  return { child, output, done };
}

/**
 * Runs the CLI as a user would, in a child process. Asynchronous: the test's own stack must keep
 * answering meanwhile.
 */
export function runCli(args: string[], env: Record<string, string | undefined> = {}) {
  return startCli(args, env).done;
}

/** Writes a JSONL file (one line per entry; strings are written as they are) in a temp dir. */
export async function writeJsonl(lines: (string | object)[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ripen-cli-"));
  const path = join(dir, "requests.jsonl");
  await writeFile(
    path,
    `${lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n")}\n`,
  );
  return path;
}

export const image = (prompt: string) => ({ model: "nano-banana-2", input: { prompt } });
export const video = (prompt: string) => ({
  model: "veo-3.1-fast",
  input: { prompt, duration: 8 },
});
