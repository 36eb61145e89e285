import { type ExecFileException, execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_CWD, type CliResult, SLUICE_COMMAND, sluice } from './support/cli-run.js';

/** An endpoint nothing listens on: nothing can be delivered, so what was queued stays queued. */
const DOWN = 'http://127.0.0.1:1';
const NOBODY = 65_534;
const isRoot = process.getuid?.() === 0;
if (!isRoot) {
  console.warn(
    '!!! cli-unreadable: the permission cases need root (to run the CLI as nobody, for whom a mode-000 file is unreadable); skipped !!!',
  );
}

/** `sluice ...args` run as the user nobody, as a user who cannot read a mode-000 file. */
function sluiceAsNobody(args: readonly string[]): Promise<CliResult> {
  const [command, ...prefix] = SLUICE_COMMAND;
  return new Promise((resolve) => {
    execFile(
      command!,
      [...prefix, ...args],
      {
        cwd: CLI_CWD,
        uid: NOBODY,
        gid: NOBODY,
        env: { PATH: process.env.PATH, HOME: tmpdir(), SLUICE_API_KEY: 'k' },
      },
      (error: ExecFileException | null, stdout, stderr) =>
        resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr }),
    );
  });
}

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'sluice-unreadable-'));
  await chmod(work, 0o777);
});
afterEach(() => rm(work, { recursive: true, force: true }));

describe('paths the CLI cannot read', () => {
  it.skipIf(!isRoot)(
    'sluice send DIR with an unreadable file fails (exit 1) naming it, with nothing queued',
    async () => {
      const data = join(work, 'data');
      await mkdir(data);
      await writeFile(join(data, 'a.txt'), 'a');
      await writeFile(join(data, 'b.txt'), 'b');
      await chmod(join(data, 'b.txt'), 0o000);
      const queue = join(work, 'q');
      const sent = await sluiceAsNobody(['send', data, '--endpoint', DOWN, '--dir', queue, '--timeout', '2']);
      expect(sent.code, sent.stderr).toBe(1);
      expect(sent.stderr).toContain(
        `cannot read ${join(data, 'b.txt')}: permission denied; nothing was queued`,
      );
      const status = await sluice(['status', '--json', '--dir', queue]);
      expect(JSON.parse(status.stdout)).toMatchObject({ records: { queued: 0 }, blobs: { queued: 0 } });
    },
    60_000,
  );

  it.skipIf(!isRoot)(
    'sluice tail of an unreadable file fails at start (exit 1) naming it, reading nothing',
    async () => {
      const log = join(work, 'app.log');
      await writeFile(log, 'line\n');
      await chmod(log, 0o000);
      const tailed = await sluiceAsNobody(['tail', log, '--endpoint', DOWN, '--dir', join(work, 'q')]);
      expect(tailed.code, tailed.stderr).toBe(1);
      expect(tailed.stderr).toContain(`cannot follow ${log}: permission denied; nothing was read`);
    },
    60_000,
  );

  it('sluice send counts a file named through a symbolic link and through its directory once', async () => {
    const data = join(work, 'data');
    await mkdir(data);
    await writeFile(join(data, 'a.txt'), 'a');
    await writeFile(join(data, 'b.txt'), 'b');
    await symlink(join(data, 'a.txt'), join(work, 'alink'));
    const sent = await sluice(
      ['send', data, join(work, 'alink'), '--endpoint', DOWN, '--dir', join(work, 'q'), '--timeout', '1'],
      { env: { SLUICE_API_KEY: 'k' } },
    );
    expect(sent.stderr).toContain('sending 2 files');
    const status = await sluice(['status', '--json', '--dir', join(work, 'q')]);
    expect(JSON.parse(status.stdout)).toMatchObject({ blobs: { queued: 2 } });
  }, 60_000);
});
