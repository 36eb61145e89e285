import { appendFile, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestServer } from '@sluice/ingest-api/testing';
import { describe, expect } from 'vitest';
import { cliTest as test } from './support/cli-fixtures.js';
import { type CliResult, finished, sluice, spawnSluice } from './support/cli-run.js';
import { waitFor } from './support/harness.js';
import { storedLines, storedOnce, waitForStored } from './support/tail-harness.js';

const KEY = { SLUICE_API_KEY: 'test-key' };

/** An endpoint nothing listens on: every request fails to connect, so items stay queued. */
const DOWN = 'http://127.0.0.1:1';

/** `sluice tail ...args` on the test server (or `endpoint`), running until the test signals it. */
function startTail(
  server: TestServer,
  dir: string,
  args: readonly string[],
  endpoint = server.url,
): { stderr: () => string; stop: (signal: NodeJS.Signals) => Promise<CliResult> } {
  const child = spawnSluice(['tail', ...args, '--endpoint', endpoint, '--dir', dir], { env: KEY });
  const result = finished(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  return {
    stderr: () => stderr,
    stop: (signal) => {
      child.kill(signal);
      return result;
    },
  };
}

/** The stored `line`s of `type`, sorted, checking that no id is stored twice. */
const lines = (prefix: string, count: number, from = 0): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix} line ${from + i}`);

const text = (list: readonly string[]): string => list.map((line) => `${line}\n`).join('');

describe('sluice tail', () => {
  test('follows a file and a directory (--include) on one queue, stores every line once, ends 143 on SIGTERM with plain output', async ({
    server,
    dir,
    files,
  }) => {
    const app = join(files, 'app.log');
    const logs = join(files, 'logs');
    await mkdir(logs);
    await writeFile(app, text(lines('app', 3)));
    await writeFile(join(logs, 'web.log'), text(lines('web', 2)));
    await writeFile(join(logs, 'notes.txt'), text(lines('notes', 2)));
    const run = startTail(server, dir, [app, logs, '--include', '*.log', '--type', 'cli-tail-a']);
    await waitForStored(server, 5, 'cli-tail-a');
    // Growth of both, and a file that appears in the directory while it runs.
    await appendFile(app, text(lines('app', 2, 3)));
    await appendFile(join(logs, 'web.log'), text(lines('web', 2, 2)));
    await writeFile(join(logs, 'new.log'), text(lines('new', 3)));
    await waitForStored(server, 12, 'cli-tail-a');
    const ended = await run.stop('SIGTERM');
    expect(ended.code, ended.stderr).toBe(143);
    expect(await storedOnce(server, 'cli-tail-a')).toEqual(
      [...lines('app', 5), ...lines('web', 4), ...lines('new', 3)].sort(),
    );
    // Not a terminal: plain lines, no escapes, one per event, then the summary.
    expect(ended.stdout).not.toContain('\r');
    expect(ended.stdout).not.toContain('\u001b');
    const out = ended.stdout.trimEnd().split('\n');
    expect(out).toEqual(
      expect.arrayContaining([
        `opened\t${app}\tfrom the start`,
        `opened\t${join(logs, 'web.log')}\tfrom the start`,
        `opened\t${join(logs, 'new.log')}\tfrom the start`,
      ]),
    );
    expect(out.join('\n')).not.toContain('notes.txt');
    expect(out.at(-1)).toMatch(/^tail\t3 files, 12 read, 12 delivered, 0 queued, [\d.]+ lines\/s, lag 0 B$/);
    expect(ended.stderr).toContain('following 1 file and 1 directory');
    expect(ended.stderr).toContain('sluice: interrupted; every line read was delivered');
  }, 30_000);

  test('a file named on its own and through its directory is followed once, through the directory: no conflicts, every line once', async ({
    server,
    dir,
    files,
  }) => {
    const logs = join(files, 'logs');
    await mkdir(logs);
    const app = join(logs, 'both.log');
    // Lines of their own: a file of another test with the same first line and a reused inode would have
    // the same ids on this shared server.
    await writeFile(app, text(lines('both', 3)));
    await writeFile(join(logs, 'side.log'), text(lines('side', 2)));
    // The directory named through a symbolic link: the same file all the same.
    const link = join(files, 'logs-link');
    await symlink(logs, link);
    const run = startTail(server, dir, [app, link, '--type', 'cli-tail-both']);
    await waitForStored(server, 5, 'cli-tail-both');
    // SIGTERM delivers what was read first: a second tailer's copies (another ts) would be dead by then.
    const ended = await run.stop('SIGTERM');
    expect(ended.code, ended.stderr).toBe(143);
    expect(await storedOnce(server, 'cli-tail-both')).toEqual(
      [...lines('both', 3), ...lines('side', 2)].sort(),
    );
    expect(ended.stdout).not.toMatch(/^dead\t/m);
    expect(ended.stdout).toMatch(/^tail\t2 files, 5 read, 5 delivered, 0 queued, /m);
    expect(ended.stderr).toContain(`sluice: ${app} is followed through ${link}`);
    expect(ended.stderr).toContain('following 1 directory');
  }, 30_000);

  test('SIGINT ends it with 130 keeping undelivered lines queued; a restart on the same DIR sends them and the lines appended meanwhile, nothing twice', async ({
    server,
    dir,
    files,
  }) => {
    const log = join(files, 'svc.log');
    await writeFile(log, text(lines('svc', 4)));
    // First run: the server is unreachable, so the lines read stay queued in DIR.
    const first = startTail(server, dir, [log, '--type', 'cli-tail-b'], DOWN);
    await waitFor(() => /retrying \d+ records?/.test(first.stderr()), 20_000);
    const stopped = await first.stop('SIGINT');
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain(`sluice: interrupted; 4 items stay queued in ${dir}`);
    expect(stopped.stdout).toMatch(/^tail\t1 file, 4 read, 0 delivered, 4 queued, /m);
    expect((await sluice(['status', '--dir', dir])).stdout).toContain('total\t4 queued\t');
    // Checkpoints are kept in DIR/tail.
    expect((await readdir(join(dir, 'tail'))).length).toBe(1);

    await appendFile(log, text(lines('svc', 3, 4)));
    const second = startTail(server, dir, [log, '--type', 'cli-tail-b']);
    await waitForStored(server, 7, 'cli-tail-b');
    const ended = await second.stop('SIGTERM');
    expect(ended.code, ended.stderr).toBe(143);
    expect(ended.stdout).toMatch(new RegExp(`^opened\\t${log}\\tfrom byte \\d+$`, 'm'));
    expect(await storedOnce(server, 'cli-tail-b')).toEqual(lines('svc', 7).sort());
  }, 30_000);

  test('--json puts each line in data.json and reports a line that is not JSON as dead; a refused key stops it with exit 4, keeping the lines queued', async ({
    server,
    dir,
    files,
  }) => {
    const log = join(files, 'events.log');
    await writeFile(log, '{"n":1}\nnot json\n{"n":2}\n');
    const run = startTail(server, dir, [log, '--json', '--type', 'cli-tail-d']);
    await waitForStored(server, 2, 'cli-tail-d');
    const ended = await run.stop('SIGTERM');
    expect(ended.code, ended.stderr).toBe(143);
    expect((await storedLines(server, 'cli-tail-d')).map((row) => row.json)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(ended.stdout).toMatch(new RegExp(`^dead\\t\\S+\\t${log}:8\\tINVALID_JSON: `, 'm'));
    expect(ended.stdout).toMatch(/^tail\t1 file, 3 read, 2 delivered, 1 dead, 0 queued, /m);

    await appendFile(log, '{"n":3}\n');
    const refused = await sluice(
      ['tail', log, '--json', '--type', 'cli-tail-d', '--endpoint', server.url, '--dir', dir],
      { env: { SLUICE_API_KEY: 'not-the-key' } },
    );
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.stderr).toContain('the server refused the API key (HTTP 401)');
    expect(refused.stderr).toContain(`1 item stays queued in ${dir}`);
    // The next run with the good key delivers it, once.
    const again = startTail(server, dir, [log, '--json', '--type', 'cli-tail-d']);
    await waitForStored(server, 3, 'cli-tail-d');
    expect((await again.stop('SIGINT')).code).toBe(130);
    expect((await storedLines(server, 'cli-tail-d')).map((row) => row.json)).toEqual([
      { n: 1 },
      { n: 2 },
      { n: 3 },
    ]);
  }, 30_000);

  test('a missing path is an error (exit 1) naming it, before anything is read; no path or a bad glob is a usage error (exit 2)', async ({
    server,
    dir,
    files,
  }) => {
    const log = join(files, 'there.log');
    await writeFile(log, 'a line\n');
    const missing = join(files, 'nope.log');
    const base = ['--endpoint', server.url, '--dir', dir, '--type', 'cli-tail-c'];
    const [absent, none, badGlob] = await Promise.all([
      sluice(['tail', log, missing, ...base], { env: KEY }),
      sluice(['tail', ...base], { env: KEY }),
      sluice(['tail', files, '--include', '[a-', ...base], { env: KEY }),
    ]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toBe(
      `sluice: cannot follow ${missing}: no such file or directory; nothing was read\n`,
    );
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give at least one FILE or DIR to follow');
    expect(none.stderr).toContain('(sluice tail -h for help)');
    expect(badGlob.code).toBe(2);
    expect(badGlob.stderr).toContain('sluice: --include: Unclosed `[` in glob "[a-"');
    // Checked before DIR is opened: nothing was created in it.
    expect(await readdir(dir)).toEqual([]);
    expect(await storedLines(server, 'cli-tail-c')).toEqual([]);
  }, 30_000);
});
