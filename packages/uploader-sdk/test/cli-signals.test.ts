import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as test } from './support/cli-fixtures.js';
import { sluice } from './support/cli-run.js';
import { spawnOpen } from './support/cli-spawn.js';
import { waitFor } from './support/harness.js';

const KEY = { SLUICE_API_KEY: 'test-key' };

/** An endpoint nothing listens on: every request fails to connect, so items stay queued. */
const DOWN = 'http://127.0.0.1:1';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function queuedIn(dir: string): Promise<string> {
  return (await sluice(['status', '--dir', dir])).stdout;
}

describe('signals', () => {
  for (const [first, second, code] of [
    ['SIGINT', 'SIGTERM', 143],
    ['SIGTERM', 'SIGINT', 130],
    ['SIGINT', 'SIGINT', 130],
  ] as const) {
    test(`\`sluice tail\`: ${first} starts the clean stop, ${second} then ends it at once with ${code}; what was read stays queued`, async ({
      dir,
      files,
    }) => {
      const log = join(files, 'svc.log');
      await writeFile(log, 'one\ntwo\nthree\n');
      const run = spawnOpen(['tail', log, '--type', 'cli-signals', '--endpoint', DOWN, '--dir', dir], KEY);
      run.child.stdin.end();
      await waitFor(() => /retrying \d+ records?/.test(run.stderr()), 20_000);
      await waitFor(async () => (await queuedIn(dir)).includes('total\t3 queued\t'), 20_000);
      run.child.kill(first);
      // The clean stop waits up to 5 s for deliveries that cannot happen.
      await sleep(500);
      const at = performance.now();
      run.child.kill(second);
      const ended = await run.result;
      expect(ended.code, ended.stderr).toBe(code);
      expect(performance.now() - at).toBeLessThan(2500);
      expect(ended.stderr).toContain('sluice: a second signal: ended at once');
      expect(await queuedIn(dir)).toContain('total\t3 queued\t');
    }, 60_000);
  }

  test('`sluice send --records -`: SIGTERM while stdin is idle stops it promptly, the lines read durably queued', async ({
    dir,
  }) => {
    const run = spawnOpen(['send', '--records', '-', '--endpoint', DOWN, '--dir', dir], KEY);
    for (let i = 1; i <= 3; i += 1) run.child.stdin.write(`{"id":"idle-${i}","type":"idle","data":${i}}\n`);
    // stdin stays open, with nothing more to read.
    await waitFor(async () => (await queuedIn(dir)).includes('total\t3 queued\t'), 20_000);
    const at = performance.now();
    run.child.kill('SIGTERM');
    const ended = await Promise.race([run.result, sleep(5000).then(() => undefined)]);
    // Ends stdin only if it did not stop on its own, so the test does not hang.
    run.child.stdin.end();
    const result = ended ?? (await run.result);
    expect(ended, 'still running 5 s after SIGTERM').toBeDefined();
    expect(performance.now() - at).toBeLessThan(3000);
    expect(result.code, result.stderr).toBe(143);
    expect(result.stdout).toBe('0 delivered, 0 dead\n');
    expect(result.stderr).toContain(`sluice: interrupted; 3 items stay queued in ${dir}`);
    expect(result.stderr).toContain('stdin was read up to line 3 only');
    expect(await queuedIn(dir)).toContain('total\t3 queued\t');
  }, 60_000);
});
