import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
