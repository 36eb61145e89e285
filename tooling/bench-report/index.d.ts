/** What a figure must reach: a ratio to its ceiling, or an absolute bound on its value. */
export type Target =
  | { readonly ratioAtLeast: number }
  | { readonly below: number }
  | { readonly atLeast: number };

/** A figure as a benchmark measured it. */
export interface FigureInput {
  /** What was measured, e.g. `POST /v1/batch (4 clients × 500 items)`. */
  readonly figure: string;
  readonly value: number;
  /** e.g. `items/s`, `MB/s`, `MiB`, `ms`. */
  readonly unit: string;
  /** The same work done the most direct way, measured in the same run, in the same unit. */
  readonly ceiling?: number | undefined;
  /** What the ceiling is, e.g. `raw postgres.js INSERT … ON CONFLICT DO NOTHING`. */
  readonly ceilingLabel?: string | undefined;
  readonly target?: Target | undefined;
  /** Anything a reader needs to read the figure right (database, sizes). */
  readonly note?: string | undefined;
}

/** One row of the `pnpm bench` table. */
export interface FigureRow {
  readonly figure: string;
  readonly value: number;
  readonly unit: string;
  readonly ceiling: number | null;
  readonly ceilingLabel: string | null;
  /** `value / ceiling`, or null without a ceiling. */
  readonly ratio: number | null;
  /** e.g. `≥ 0.8 × ceiling`, `< 250 MiB`; null without a target. */
  readonly target: string | null;
  /** null without a target. */
  readonly pass: boolean | null;
  readonly note: string | null;
  /** The benchmark file that reported it. */
  readonly source: string;
}

/** The environment variable naming the JSON-lines file figures are appended to (set by `pnpm bench`). */
export declare const RESULTS_ENV: 'SLUICE_BENCH_RESULTS';

/**
 * Computes the ratio and the verdict, prints one `figure:` line, and appends the row to the file named by
 * `SLUICE_BENCH_RESULTS` when it is set. Returns the row.
 */
export declare function reportFigure(input: FigureInput): FigureRow;

/** Formats a number the way the table does: grouped integers at or above 100, else 3 significant digits. */
export declare function formatNumber(value: number): string;

/** The target as the table shows it. */
export declare function describeTarget(target: Target, unit: string): string;
