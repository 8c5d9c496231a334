import { log } from "./plan";

/** Closers, run in reverse at the end, each bounded, whatever happened before. */
const closers: Array<{ name: string; run: () => Promise<unknown> }> = [];
let finishing = false;

/** Registers something to undo at the end (a process, a database, a pool). */
export function onTeardown(name: string, run: () => Promise<unknown>): void {
  closers.push({ name, run });
}

/** True once cleanup has begun: a phase still running must not start what nobody will stop. */
export const isFinishing = () => finishing;

export async function tearDown(): Promise<void> {
  finishing = true;
  while (closers.length > 0) {
    const { name, run } = closers.pop()!;
    const bounded = new Promise((_r, reject) =>
      setTimeout(() => reject(new Error("took over 30 s")), 30_000).unref(),
    );
    await Promise.race([run(), bounded]).catch((error: unknown) =>
      log(`cleanup: ${name} failed: ${(error as Error).message}`),
    );
  }
}
