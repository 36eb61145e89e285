import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { CLI_CWD, type CliResult, SLUICE_COMMAND } from './cli-run.js';

/** A `sluice` child whose stdin stays open and whose stdout the test may close. */
export interface OpenChild {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves once it exits; `stdout` is what was read before the test closed it. */
  readonly result: Promise<CliResult & { readonly signal: NodeJS.Signals | null }>;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Everything read from stdout so far. */
  stdout(): string;
}

/**
 * Starts `sluice ...args` with piped stdio left open (unlike `spawnSluice`, which ends stdin at once), in an
 * environment without the test process's `SLUICE_*` variables plus `env`.
 */
export function spawnOpen(args: readonly string[], env: Readonly<Record<string, string>> = {}): OpenChild {
  const base: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SLUICE_')) base[key] = value;
  const [command, ...prefix] = SLUICE_COMMAND;
  const child = spawn(command!, [...prefix, ...args], { cwd: CLI_CWD, env: { ...base, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  // A closed stdin (the child exited) is not the test's failure.
  child.stdin.on('error', () => undefined);
  const result = new Promise<CliResult & { readonly signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, result, stderr: () => stderr, stdout: () => stdout };
}
