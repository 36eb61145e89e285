import { execFile } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect } from 'vitest';
import { cliTest as test } from './support/cli-fixtures.js';
import { CLI_CWD, SLUICE_COMMAND } from './support/cli-run.js';
import { waitFor } from './support/harness.js';
import { storedLines, waitForStored } from './support/tail-harness.js';

const run = promisify(execFile);

/** Single-quotes `word` for sh. */
const quote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

describe('sluice tail on a terminal', () => {
  test('shows a live line (files, read, delivered, queued, rate, lag) redrawn in place; Ctrl-C ends it with 130', async ({
    server,
    dir,
    files,
  }) => {
    const log = join(files, 'app.log');
    await writeFile(log, 'one\ntwo\n');
    const socket = `sluice-tail-test-${process.pid}-${Date.now()}`;
    const command = [
      'env',
      'SLUICE_API_KEY=test-key',
      ...SLUICE_COMMAND,
      'tail',
      log,
      '--type',
      'cli-tail-tty',
      '--endpoint',
      server.url,
      '--dir',
      dir,
    ]
      .map(quote)
      .join(' ');
    const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args], { cwd: CLI_CWD });
    try {
      await tmux(
        'new-session',
        '-d',
        '-x',
        '160',
        '-y',
        '20',
        '-c',
        CLI_CWD,
        `sleep 1; ${command}; echo "exit status $?"; sleep 600`,
      );
      const raw = join(files, 'terminal.raw');
      await tmux('pipe-pane', '-o', `cat >> ${quote(raw)}`);
      await waitForStored(server, 2, 'cli-tail-tty');
      await appendFile(log, 'three\n');
      await waitForStored(server, 3, 'cli-tail-tty');
      let screen = '';
      await waitFor(async () => {
        screen = (await tmux('capture-pane', '-p')).stdout;
        return screen.includes('3 read  3 delivered');
      }, 10_000);
      await tmux('send-keys', 'C-c');
      await waitFor(async () => {
        screen = (await tmux('capture-pane', '-p')).stdout;
        return screen.includes('exit status');
      }, 15_000);
      const lines = screen.split('\n').filter((line) => line.trim() !== '');
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
    } finally {
      await tmux('kill-server').catch(() => undefined);
    }
  }, 60_000);
});
