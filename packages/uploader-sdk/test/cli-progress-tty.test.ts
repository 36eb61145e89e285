import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as test } from './support/cli-fixtures.js';
import { onTerminal } from './support/cli-run.js';

describe('sluice send on a terminal', () => {
  test('shows a progress line with files, bytes and ETA instead of a line per file, and ends it cleanly', async ({
    server,
    dir,
    files,
  }) => {
    const root = join(files, 'shots');
    await mkdir(join(root, 'day-2'), { recursive: true });
    for (let i = 0; i < 12; i++) {
      await writeFile(join(root, i % 2 === 0 ? '' : 'day-2', `shot-${i}.png`), randomBytes(100_000));
    }
    // Everything written to the terminal, escapes included.
    const raw = join(files, 'terminal.raw');
    await onTerminal(
      ['send', root, '--endpoint', server.url, '--dir', dir],
      { width: 120, raw },
      async (terminal) => {
        const lines = await terminal.screenWith('exit status', 30_000);
        expect(lines).toEqual([
          expect.stringMatching(
            /^\[#{24}\] {2}12\/12 files {2}1\.20 MB\/1\.20 MB {2}\d[\d.]* [kMG]?B\/s {2}ETA 0s$/,
          ),
          '12 delivered, 0 dead',
          'exit status 0',
        ]);
        // The line was redrawn in place from the first state on, and no line per file was printed.
        const written = await readFile(raw, 'utf8');
        expect(written).toContain('\r\x1b[2K[------------------------]  0/12 files  0 B/1.20 MB');
        expect(written.split('\r\x1b[2K[').length - 1).toBeGreaterThan(1);
        expect(written).not.toContain('stored\t');
      },
    );
  }, 60_000);
});
