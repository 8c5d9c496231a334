/** Number formats for the tables. */
export const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
export const int = (value: number) => Math.round(value).toLocaleString("en-US");
export const mib = (bytes: number | null) =>
  bytes === null ? "?" : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
export const ratio = (value: number, base: number | undefined) =>
  base ? (value / base).toFixed(2) : "—";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

export const sortedCopy = (values: number[]) => [...values].sort((a, b) => a - b);

/** One markdown table with its title line and the notes printed under it. */
export interface Table {
  title: string;
  header: string[];
  rows: string[][];
  notes?: string[];
}

/** The table as lines: first column left-aligned, the others right-aligned. */
export function formatTable({ title, header, rows, notes = [] }: Table): string[] {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `-${"-".repeat(w)}-` : `-${"-".repeat(w)}:`)).join("|")}|`;
  return ["", title, "", line(header), rule, ...rows.map(line), ...notes];
}

/**
 * Sections by phase letter, printed in letter order whatever order the phases ran in, so the
 * output pastes into the README as is.
 */
export class Report {
  private readonly sections = new Map<string, string[]>();

  table(letter: string, table: Table): void {
    this.add(letter, formatTable(table));
  }

  /** A phase that could not be measured, in its place. */
  failed(letter: string, name: string, error: unknown): void {
    const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    this.add(letter, ["", `${letter}. ${name}: not measured — ${reason}`]);
  }

  toString(): string {
    return [...this.sections.keys()]
      .sort()
      .flatMap((key) => this.sections.get(key)!)
      .join("\n");
  }

  private add(letter: string, lines: string[]): void {
    this.sections.set(letter, [...(this.sections.get(letter) ?? []), ...lines]);
  }
}
