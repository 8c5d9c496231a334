// How the operator views write figures: one place, so every table reads alike.

const whole = new Intl.NumberFormat("en-US");
const dollars = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 2,
  maximumFractionDigits: 4,
});

export const count = (n: number): string => whole.format(n);
export const usd = (n: number): string => dollars.format(n);
export const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;
export const millis = (n: number | null): string =>
  n === null ? "—" : `${count(Math.round(n))} ms`;

/** An age in milliseconds in the largest unit that still reads well: "45 s", "12 min", "3 h". */
export function age(ageMs: number | null): string {
  if (ageMs === null) return "—";
  const seconds = Math.round(ageMs / 1000);
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
