import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, vi } from 'vitest';
import { tailDirectory } from '../src/index.js';
import { tempDirectory } from './support/harness.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import { lines, numberedLines } from './support/tail-harness.js';

// A file the tailer may not open (EACCES: the suite may run as root, which any mode lets through, so the
// refusal is the file system's answer as the tailer gets it).
vi.mock('node:fs/promises', async (original) => {
  const fs = await original<typeof import('node:fs/promises')>();
  return {
    ...fs,
    open: (async (path: Parameters<typeof fs.open>[0], ...rest: unknown[]) => {
      if (String(path).endsWith('locked-read-errors.log')) {
        throw Object.assign(new Error(`EACCES: permission denied, open '${String(path)}'`), {
          code: 'EACCES',
        });
      }
      return (fs.open as (...args: unknown[]) => ReturnType<typeof fs.open>)(path, ...rest);
    }) as typeof fs.open,
  };
});

describe('a file the tailer cannot read', () => {
  test('is reported once, not at every poll, while the other files are read', async ({
    server,
    uploader,
  }) => {
    const logs = await tempDirectory('sluice-tail-');
    await writeFile(join(logs, 'locked-read-errors.log'), 'secret\n');
    const open = numberedLines('read-errors-open', 20);
    await writeFile(join(logs, 'open.log'), lines(open));
    const tail = tailDirectory(logs, { uploader, include: '*.log', pollIntervalMs: 20 });
    const errors: string[] = [];
    tail.on('error', (error) => errors.push(error.message));
    try {
      await expectStoredExactly(server, open);
      // About 50 polls at 20 ms.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/could not read .*locked-read-errors\.log: EACCES/);
      expect(tail.stats().stopped).toBe(false);
    } finally {
      await tail.stop();
    }
  });
});
