import { setFlagsFromString } from 'node:v8';

/**
 * The V8 settings that keep a long-running `sluice tail` close to the heap it holds.
 *
 * With V8's defaults, a process that allocates as fast as a tailer does grows its young generation to
 * 2 × 16 MiB, and its old generation to up to 4 × what survives a full collection before collecting again.
 * A tailer keeps about 20 MiB alive, so most of a 200 MiB peak is garbage not yet collected.
 *
 * - `--semi-space-growth-factor=1` keeps the young generation at its starting size.
 * - `--heap-growing-percent=20` lets the old generation grow 20 % past what survived the last full collection.
 *
 * The garbage collector reads both each time it sizes the heap, so they take effect when set after start,
 * unlike `--max-semi-space-size` and `--max-old-space-size`. The README gives the measurements.
 */
export const FRUGAL_HEAP_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=20'] as const;

/** V8 flags that size the heap: when an operator gave any, on node's command line or in NODE_OPTIONS. */
const HEAP_SIZING_FLAG =
  /^--(?:max-old-space-size|max-semi-space-size|min-semi-space-size|max-heap-size|optimize-for-size|heap-growing-percent|semi-space-growth-factor)\b/;

/**
 * Applies {@link FRUGAL_HEAP_FLAGS} to this process, unless node's command line or `NODE_OPTIONS` already
 * sizes the heap: an operator's own flags stand. Returns whether they were applied.
 */
export function useFrugalHeap(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map((flag) => flag.replaceAll('_', '-'));
  if (given.some((flag) => HEAP_SIZING_FLAG.test(flag))) return false;
  for (const flag of FRUGAL_HEAP_FLAGS) setFlagsFromString(flag);
  return true;
}
