import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as test } from './support/cli-fixtures.js';
import { onTerminal } from './support/cli-run.js';
import { storedLines, waitForStored } from './support/tail-harness.js';

describe('sluice tail on a terminal', () => {
  test('shows a live line (files, read, delivered, queued, rate, lag) redrawn in place; Ctrl-C ends it with 130', async ({
    server,
    dir,
    files,
  }) => {
    const log = join(files, 'app.log');
    await writeFile(log, 'one\ntwo\n');
    const raw = join(files, 'terminal.raw');
    const args = ['tail', log, '--type', 'cli-tail-tty', '--endpoint', server.url, '--dir', dir];
    await onTerminal(args, { width: 160, raw }, async (terminal) => {
      await waitForStored(server, 2, 'cli-tail-tty');
      await appendFile(log, 'three\n');
      await waitForStored(server, 3, 'cli-tail-tty');
      await terminal.screenWith('3 read  3 delivered', 10_000);
      await terminal.tmux('send-keys', 'C-c');
      const lines = await terminal.screenWith('exit status', 15_000);
      expect(lines).toEqual([
        expect.stringMatching(/^following 1 file; queue in /),
        expect.stringMatching(new RegExp(`^opened\\s+${log}\\s+from the start$`)),
        expect.stringMatching(/^1 file {2}3 read {2}3 delivered {2}0 queued {2}[\d.]+ lines\/s {2}lag 0 B$/),
        expect.stringMatching(/^sluice: interrupted; every line read was delivered; /),
        'exit status 130',
      ]);
      const written = await readFile(raw, 'utf8');
      expect(written.split('\r\x1b[2K1 file  ').length - 1).toBeGreaterThan(1);
      expect(written).not.toContain('tail\t');
      expect((await storedLines(server, 'cli-tail-tty')).map((row) => row.line)).toEqual([
        'one',
        'two',
        'three',
      ]);
    });
  }, 60_000);
});
