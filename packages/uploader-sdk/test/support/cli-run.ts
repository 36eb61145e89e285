import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitFor } from './harness.js';

/** The command line that runs the `sluice` CLI from source (`node --import tsx src/cli/main.ts`). */
export const SLUICE_COMMAND: readonly string[] = [
  process.execPath,
  '--import',
  'tsx',
  fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url)),
];

/** Where the CLI runs: the package root, so `tsx` resolves. */
export const CLI_CWD = fileURLToPath(new URL('../..', import.meta.url));

/** How a CLI run ended. */
export interface CliResult {
  /** Exit status; `null` when a signal ended it. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Added to the environment, which has no `SLUICE_*` variable of the test process. */
  readonly env?: Readonly<Record<string, string>>;
  /** Written to stdin, which is then closed (stdin is empty otherwise). */
  readonly input?: string | Uint8Array;
}

function environment(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SLUICE_')) env[key] = value;
  return { ...env, ...extra };
}

/** Starts `sluice ...args` as a child process with piped stdio. */
export function spawnSluice(args: readonly string[], options: CliOptions = {}): ChildProcess {
  const [command, ...prefix] = SLUICE_COMMAND;
  const child = spawn(command!, [...prefix, ...args], { cwd: CLI_CWD, env: environment(options.env) });
  child.stdin!.end(options.input ?? '');
  return child;
}

/** Output and exit status of a child started by {@link spawnSluice}, once it exits. */
export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `sluice ...args` to the end. */
export function sluice(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return finished(spawnSluice(args, options));
}

const run = promisify(execFile);

/** Single-quotes `word` for sh. */
const quote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

/** A terminal `sluice` runs on: see {@link onTerminal}. */
export interface Terminal {
  /** Runs a tmux command on the terminal's server. */
  tmux(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Waits until the screen shows `text`; returns the screen's lines that are not blank. */
  screenWith(text: string, timeoutMs: number): Promise<string[]>;
}

/**
 * Runs `sluice ...args` (with SLUICE_API_KEY=test-key) on a `width`×20 terminal and calls `body` while
 * it runs; then `exit status N` is printed. Everything written to the terminal, escapes included, is
 * appended to the file `raw`.
 */
export async function onTerminal(
  args: readonly string[],
  { width, raw }: { readonly width: number; readonly raw: string },
  body: (terminal: Terminal) => Promise<void>,
): Promise<void> {
  // A tmux server of our own, so its environment and size are ours; the pane stays open after the
  // command so its last screen can be read.
  const socket = `sluice-cli-test-${process.pid}-${Date.now()}`;
  const command = ['env', 'SLUICE_API_KEY=test-key', ...SLUICE_COMMAND, ...args].map(quote).join(' ');
  const tmux = (...tmuxArgs: string[]) => run('tmux', ['-L', socket, ...tmuxArgs], { cwd: CLI_CWD });
  const screenWith = async (text: string, timeoutMs: number): Promise<string[]> => {
    let screen = '';
    await waitFor(async () => {
      screen = (await tmux('capture-pane', '-p')).stdout;
      return screen.includes(text);
    }, timeoutMs);
    return screen.split('\n').filter((line) => line.trim() !== '');
  };
  try {
    await tmux(
      'new-session',
      '-d',
      '-x',
      String(width),
      '-y',
      '20',
      '-c',
      CLI_CWD,
      `sleep 1; ${command}; echo "exit status $?"; sleep 600`,
    );
    await tmux('pipe-pane', '-o', `cat >> ${quote(raw)}`);
    await body({ tmux, screenWith });
  } finally {
    await tmux('kill-server').catch(() => undefined);
  }
}
