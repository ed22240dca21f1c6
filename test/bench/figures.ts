// What the benchmark reports: one figure per line with its target, and whether it passes.
// Figures are checked by kind, so a small run (in `npm test`) can enforce counts while
// reporting ratios and memory without judging them on a tiny sample.

/** count: API requests per flow; ratio: against a floor of the same run; cpu, memory: absolute. */
export type FigureKind = "count" | "ratio" | "cpu" | "memory";

export interface Figure {
  name: string;
  value: number;
  unit: string;
  kind: FigureKind;
  target: { op: "<=" | ">="; limit: number };
  /** What the value was computed from, shown after the verdict. */
  detail?: string;
}

export function passes(f: Figure): boolean {
  if (!Number.isFinite(f.value)) return false;
  return f.target.op === "<=" ? f.value <= f.target.limit : f.value >= f.target.limit;
}

/** Figures whose kind is enforced and that miss their target. */
export function failures(figures: readonly Figure[], enforced: readonly FigureKind[]): Figure[] {
  return figures.filter((f) => enforced.includes(f.kind) && !passes(f));
}

const number = (v: number, unit: string): string => {
  if (!Number.isFinite(v)) return String(v);
  const digits = unit === "x" || Math.abs(v) < 10 ? 2 : 1;
  return `${v.toFixed(digits)}${unit === "x" ? "x" : ` ${unit}`}`;
};

export function formatFigure(f: Figure, enforced: readonly FigureKind[]): string {
  const verdict = passes(f) ? "ok" : enforced.includes(f.kind) ? "MISS" : "miss (not enforced)";
  const value = number(f.value, f.unit).padStart(12);
  const target = `target ${f.target.op} ${number(f.target.limit, f.unit)}`.padEnd(20);
  return `${f.name.padEnd(44)} ${value}   ${target} ${verdict}${f.detail ? `   (${f.detail})` : ""}`;
}
