// How a benchmark reports a figure to `pnpm bench` (tooling/bench): one JSON object per line, appended to
// the file named by SLUICE_BENCH_RESULTS. Without that variable the figure is only printed.
// Plain JavaScript with hand-written types (index.d.ts) so that every package's bench can import it
// without a build.
import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';

export const RESULTS_ENV = 'SLUICE_BENCH_RESULTS';

export function formatNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(3)).toLocaleString('en-US', { maximumFractionDigits: 3 });
}

export function describeTarget(target, unit) {
  if ('ratioAtLeast' in target) return `≥ ${target.ratioAtLeast} × ceiling`;
  if ('below' in target) return `< ${formatNumber(target.below)} ${unit}`;
  return `≥ ${formatNumber(target.atLeast)} ${unit}`;
}

function verdict(target, value, ratio) {
  if ('ratioAtLeast' in target) return ratio !== null && ratio >= target.ratioAtLeast;
  if ('below' in target) return value < target.below;
  return value >= target.atLeast;
}

export function reportFigure(input) {
  const ceiling = input.ceiling ?? null;
  const ratio = ceiling !== null && ceiling > 0 ? input.value / ceiling : null;
  const row = {
    figure: input.figure,
    value: input.value,
    unit: input.unit,
    ceiling,
    ceilingLabel: input.ceilingLabel ?? null,
    ratio,
    target: input.target === undefined ? null : describeTarget(input.target, input.unit),
    pass: input.target === undefined ? null : verdict(input.target, input.value, ratio),
    note: input.note ?? null,
    source: basename(process.argv[1] ?? 'unknown'),
  };
  const parts = [`figure: ${row.figure}: ${formatNumber(row.value)} ${row.unit}`];
  if (ceiling !== null) parts.push(`ceiling ${formatNumber(ceiling)} ${row.unit}`);
  if (ratio !== null) parts.push(`ratio ${ratio.toFixed(2)}`);
  if (row.target !== null) parts.push(`target ${row.target}: ${row.pass ? 'pass' : 'FAIL'}`);
  console.log(parts.join('; '));
  const file = process.env[RESULTS_ENV];
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
  return row;
}
