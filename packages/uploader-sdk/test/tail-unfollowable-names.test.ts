import { chmod, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { tailDirectory, tailFile } from '../src/index.js';
import { tempDirectory } from './support/harness.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import { lines, numberedLines } from './support/tail-harness.js';

describe('names a directory tailer cannot follow', () => {
  test('a symlink loop and an unreadable entry are skipped; the other files are read and nothing stops', async ({
    server,
    uploader,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    await symlink(join(logs, 'a.log'), join(logs, 'a.log')); // ELOOP on stat
    await symlink(join(logs, 'locked', 'x.log'), join(logs, 'b.log'));
    await writeFile(join(logs, 'locked'), '');
    await chmod(join(logs, 'locked'), 0o000); // ENOTDIR through the link
    const c = numberedLines('c', 20);
    const z = numberedLines('z', 20);
    await writeFile(join(logs, 'c.log'), lines(c));
    await writeFile(join(logs, 'z.log'), lines(z));
    const tail = tailDirectory(logs, { uploader, include: '*.log', pollIntervalMs: 20 });
    const errors: string[] = [];
    tail.on('error', (error) => errors.push(error.message));
    try {
      await expectStoredExactly(server, [...c, ...z]);
      expect(tail.stats().stopped).toBe(false);
      expect(errors).toEqual([]);
    } finally {
      await tail.stop();
    }
  });

  test('a directory given to tailFile, or a file to tailDirectory, is said once, not at every poll', async ({
    uploader,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    const file = join(logs, 'plain.log');
    await writeFile(file, 'x\n');
    const warnings: string[] = [];
    const onDirectory = tailFile(logs, { uploader, pollIntervalMs: 20 });
    onDirectory.on('warning', ({ message }) => warnings.push(message));
    const onFile = tailDirectory(file, { uploader, pollIntervalMs: 20 });
    onFile.on('warning', ({ message }) => warnings.push(message));
    try {
      // About 50 polls each.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(warnings.filter((message) => message.includes('is a directory, not a file'))).toHaveLength(1);
      expect(warnings.filter((message) => message.includes(`cannot list ${file} (ENOTDIR)`))).toHaveLength(1);
      expect(warnings).toHaveLength(2);
    } finally {
      await onDirectory.stop();
      await onFile.stop();
    }
  });
});
