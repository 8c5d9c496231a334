/** Number formats for the tables. */
export const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
export const int = (value: number) => Math.round(value).toLocaleString("en-US");
export const mib = (bytes: number | null) =>
  bytes === null ? "?" : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
export const ratio = (value: number, base: number | undefined) =>
  base ? (value / base).toFixed(2) : "—";

/**
 * Markdown tables by phase letter ("a.", "b.", …), printed in letter order whatever order the
 * phases ran in, so the output pastes into the README as is.
 */
export class Report {
  private readonly sections = new Map<string, string[]>();

  table(title: string, header: string[], rows: string[][], notes: string[] = []): void {
    const widths = header.map((h, i) =>
      Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
    );
    const line = (cells: string[]) =>
      `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
    const rule = `|${widths.map((w, i) => (i === 0 ? `-${"-".repeat(w)}-` : `-${"-".repeat(w)}:`)).join("|")}|`;
    this.add(title, ["", title, "", line(header), rule, ...rows.map(line), ...notes]);
  }

  /** A phase that could not be measured, in its place. */
  failed(phase: string, error: unknown): void {
    const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    this.add(phase, ["", `${phase}: not measured — ${reason}`]);
  }

  toString(): string {
    return [...this.sections.keys()]
      .sort()
      .flatMap((key) => this.sections.get(key)!)
      .join("\n");
  }

  private add(title: string, lines: string[]): void {
    const key = title.slice(0, 2);
    this.sections.set(key, [...(this.sections.get(key) ?? []), ...lines]);
  }
}
