import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useFrugalHeap } from '../src/cli/frugal-heap.js';
import { CLI_CWD } from './support/cli-run.js';

const child = fileURLToPath(new URL('./support/frugal-heap-child.ts', import.meta.url));

/** Runs the child with node `flags` (and NODE_OPTIONS when given); its JSON line. */
async function run(
  flags: readonly string[],
  nodeOptions?: string,
): Promise<{ applied: boolean; startMiB: number; youngMiB: number }> {
  const env = { ...process.env, NODE_OPTIONS: nodeOptions ?? '' };
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, '--import', 'tsx', child], {
    cwd: CLI_CWD,
    env,
  });
  return JSON.parse(stdout) as { applied: boolean; startMiB: number; youngMiB: number };
}

describe('the heap settings of sluice tail', () => {
  it('keep the young generation a fraction of what V8 grows it to under a tailer-like load', async () => {
    const frugal = await run([]);
    expect(frugal.applied).toBe(true);
    // The same load with V8's own growth, up to 16 MiB a semi-space: 4 → 32 MiB on Node 20, 4 → 43 on
    // Node 24. With the settings: 4 → 4 on Node 20; Node 24's V8 still grows it some (4 → 11.5).
    const operator = await run(['--max-semi-space-size=16']);
    expect(operator.applied).toBe(false);
    expect(operator.youngMiB).toBeGreaterThan(4 * operator.startMiB);
    expect(frugal.youngMiB * 2.5).toBeLessThan(operator.youngMiB);
  }, 60_000);

  it('leave an operator who sized the heap (on the command line or in NODE_OPTIONS) to their own flags', async () => {
    expect(useFrugalHeap(['--max-old-space-size=64'], undefined)).toBe(false);
    expect(useFrugalHeap([], '--require ./x.js --max_semi_space_size=4')).toBe(false);
    expect(useFrugalHeap(['--optimize-for-size'], '')).toBe(false);
    const { applied } = await run([], '--max-old-space-size=128');
    expect(applied).toBe(false);
  }, 60_000);
});
