import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as test } from './support/cli-fixtures.js';
import { sluice } from './support/cli-run.js';
import { spawnOpen } from './support/cli-spawn.js';
import { storedOnce, waitForStored } from './support/tail-harness.js';

const KEY = { SLUICE_API_KEY: 'test-key' };

/** What a crash on a closed pipe prints; a clean stop prints none of it. */
function expectNoCrash(stderr: string): void {
  expect(stderr).not.toContain('EPIPE');
  expect(stderr).not.toContain('Unhandled');
  expect(stderr).not.toMatch(/^\s+at /m);
}

/** `sluice ...args` with stdout closed by its reader before it writes anything (`| head -0`, a reader gone). */
function withClosedStdout(args: readonly string[]) {
  const run = spawnOpen(args, KEY);
  run.child.stdout.destroy();
  run.child.stdin.end();
  return run.result;
}

const lines = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix} line ${i}`);

describe('a closed stdout', () => {
  test('stops `sluice tail` as a signal does (exit 141, no crash); nothing is lost: the next run delivers the rest, every line once', async ({
    server,
    dir,
    files,
  }) => {
    const logs = join(files, 'logs');
    await mkdir(logs);
    await writeFile(
      join(logs, 'piped.log'),
      lines('piped', 4)
        .map((line) => `${line}\n`)
        .join(''),
    );
    const args = ['tail', logs, '--type', 'cli-epipe-tail', '--endpoint', server.url, '--dir', dir];
    // Its first stdout line (`opened …`) meets the closed pipe.
    const ended = await withClosedStdout(args);
    expect(ended.code, ended.stderr).toBe(141);
    expectNoCrash(ended.stderr);
    expect(ended.stderr).toContain('sluice: stdout was closed; ');

    const again = spawnOpen(args, KEY);
    await waitForStored(server, 4, 'cli-epipe-tail');
    again.child.kill('SIGTERM');
    const second = await again.result;
    expect(second.code, second.stderr).toBe(143);
    expect(await storedOnce(server, 'cli-epipe-tail')).toEqual(lines('piped', 4).sort());
  }, 60_000);

  test('stops `sluice send` as a signal does (exit 141, no crash), keeping what it queued; sending again stores each file once', async ({
    server,
    dir,
    files,
  }) => {
    const root = join(files, 'piped');
    await mkdir(root);
    for (let i = 0; i < 5; i += 1) await writeFile(join(root, `f${i}.txt`), `file ${i}`);
    const args = ['send', root, '--endpoint', server.url, '--dir', dir];
    // Its first stdout line (`stored …` of the first file) meets the closed pipe.
    const ended = await withClosedStdout(args);
    expect(ended.code, ended.stderr).toBe(141);
    expectNoCrash(ended.stderr);
    expect(ended.stderr).toMatch(/sluice: stdout was closed; \d+ items? stays? queued in /);

    const again = await sluice(args, { env: KEY });
    expect(again.code, again.stderr).toBe(0);
    const rows = await server.query<{ name: string; copies: number }>(
      `select meta->>'name' as name, count(*)::int as copies from blobs
        where source = $1 and meta->>'name' like $2 group by 1 order by 1`,
      [server.source, `${basename(root)}/%`],
    );
    expect(rows).toEqual(
      Array.from({ length: 5 }, (_, i) => ({ name: `${basename(root)}/f${i}.txt`, copies: 1 })),
    );
  }, 60_000);

  test('ends `sluice status` and `sluice dead-letters` with exit 141 and no crash', async ({ dir }) => {
    for (const args of [
      ['status', '--dir', dir],
      ['dead-letters', '--dir', dir],
    ]) {
      const ended = await withClosedStdout(args);
      expect(ended.code, `${args[0]}: ${ended.stderr}`).toBe(141);
      expect(ended.stderr).toBe('');
    }
  }, 60_000);
});
