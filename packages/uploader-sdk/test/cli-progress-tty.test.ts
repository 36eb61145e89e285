import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect } from 'vitest';
import { cliTest as test } from './support/cli-fixtures.js';
import { CLI_CWD, SLUICE_COMMAND } from './support/cli-run.js';
import { waitFor } from './support/harness.js';

const run = promisify(execFile);

/** Single-quotes `word` for sh. */
const quote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

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
    // A tmux server of our own, so its environment and size are ours; the pane stays open after the
    // command so its last screen can be read.
    const socket = `sluice-cli-test-${process.pid}-${Date.now()}`;
    const command = [
      'env',
      'SLUICE_API_KEY=test-key',
      ...SLUICE_COMMAND,
      'send',
      root,
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
        '120',
        '-y',
        '20',
        '-c',
        CLI_CWD,
        `sleep 1; ${command}; echo "exit status $?"; sleep 600`,
      );
      // Everything written to the terminal, escapes included.
      const raw = join(files, 'terminal.raw');
      await tmux('pipe-pane', '-o', `cat >> ${quote(raw)}`);
      let screen = '';
      await waitFor(async () => {
        screen = (await tmux('capture-pane', '-p')).stdout;
        return screen.includes('exit status');
      }, 30_000);
      const lines = screen.split('\n').filter((line) => line.trim() !== '');
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
    } finally {
      await tmux('kill-server').catch(() => undefined);
    }
  }, 60_000);
});
