import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestServer } from '@sluice/ingest-api/testing';
import { describe, expect } from 'vitest';
import { cliTest as test } from './support/cli-fixtures.js';
import { spawnOpen } from './support/cli-spawn.js';
import { storedOnce, waitForStored } from './support/tail-harness.js';

const KEY = { SLUICE_API_KEY: 'test-key' };

const lines = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix} line ${i}`);

const text = (list: readonly string[]): string => list.map((line) => `${line}\n`).join('');

/** `sluice tail ...paths` until `stored` lines of `type` are stored, then SIGTERM; its result. */
async function tailUntilStored(
  server: TestServer,
  dir: string,
  paths: readonly string[],
  type: string,
  stored: number,
  extra: readonly string[] = [],
) {
  const run = spawnOpen(
    ['tail', ...paths, ...extra, '--type', type, '--endpoint', server.url, '--dir', dir],
    KEY,
  );
  run.child.stdin.end();
  await waitForStored(server, stored, type);
  // A second tailer of the same file would have sent its copies by now: give them time to come back dead.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  run.child.kill('SIGTERM');
  return run.result;
}

describe('sluice tail: one file or directory named twice', () => {
  test('a file named again through a symbolic link and a hard link is followed once, the first name kept; the others are said on stderr', async ({
    server,
    dir,
    files,
  }) => {
    const logs = join(files, 'logs');
    await mkdir(logs);
    const file = join(logs, 'a.log');
    await writeFile(file, text(lines('alias-file', 3)));
    const soft = join(files, 'link.log');
    const hard = join(files, 'hard.log');
    await symlink(file, soft);
    await link(file, hard);
    const ended = await tailUntilStored(server, dir, [file, soft, hard], 'cli-alias-file', 3);
    expect(ended.code, ended.stderr).toBe(143);
    expect(await storedOnce(server, 'cli-alias-file')).toEqual(lines('alias-file', 3).sort());
    expect(ended.stdout).not.toMatch(/^dead\t/m);
    expect(ended.stdout).toMatch(/^tail\t1 file, 3 read, 3 delivered, 0 queued, /m);
    expect(ended.stderr).toContain(
      `sluice: ${soft} is the same file as ${file}: followed once, as ${file}\n`,
    );
    expect(ended.stderr).toContain(
      `sluice: ${hard} is the same file as ${file}: followed once, as ${file}\n`,
    );
    expect(ended.stderr).toContain('following 1 file;');
    expect(ended.stderr).toContain('sluice: interrupted; every line read was delivered');
  }, 60_000);

  test('a directory named again through a symbolic link is followed once; no line is dead-lettered as a conflict', async ({
    server,
    dir,
    files,
  }) => {
    const logs = join(files, 'logs');
    await mkdir(logs);
    await writeFile(join(logs, 'x.log'), text(lines('alias-dir-x', 2)));
    await writeFile(join(logs, 'y.log'), text(lines('alias-dir-y', 1)));
    const again = join(files, 'logs2');
    await symlink(logs, again);
    const ended = await tailUntilStored(server, dir, [logs, again], 'cli-alias-dir', 3);
    expect(ended.code, ended.stderr).toBe(143);
    expect(await storedOnce(server, 'cli-alias-dir')).toEqual(
      [...lines('alias-dir-x', 2), ...lines('alias-dir-y', 1)].sort(),
    );
    expect(ended.stdout).not.toMatch(/^dead\t/m);
    expect(ended.stdout).toMatch(/^tail\t2 files, 3 read, 3 delivered, 0 queued, /m);
    expect(ended.stderr).toContain(
      `sluice: ${again} is the same directory as ${logs}: followed once, as ${logs}\n`,
    );
    expect(ended.stderr).toContain('following 1 directory;');
  }, 60_000);

  test('the stop message counts dead-lettered lines instead of saying every line was delivered', async ({
    server,
    dir,
    files,
  }) => {
    const log = join(files, 'events.log');
    await writeFile(log, '{"n":1}\nnot json\n');
    const ended = await tailUntilStored(server, dir, [log], 'cli-alias-dead', 1, ['--json']);
    expect(ended.code, ended.stderr).toBe(143);
    expect(ended.stdout).toMatch(/^tail\t1 file, 2 read, 1 delivered, 1 dead, 0 queued, /m);
    expect(ended.stderr).not.toContain('every line read was delivered');
    expect(ended.stderr).toContain(
      `sluice: interrupted; 1 line was dead-lettered (\`sluice dead-letters --dir ${dir}\` lists it), the rest was delivered;`,
    );
  }, 60_000);
});
