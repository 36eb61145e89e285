import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** A child OS process in its own process group, its output appended to a file. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | NodeJS.Signals>;
  readonly running: boolean;
  /** SIGKILLs the whole process group and waits for the exit. */
  kill(): Promise<void>;
}

const live = new Set<Child>();

/**
 * Starts `node script args…` detached (its own process group, so a kill takes any grandchild with it),
 * appending stdout and stderr to `outputPath`.
 */
export function spawnNode(
  name: string,
  script: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  outputPath: string,
): Child {
  const output = openSync(outputPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [script, ...args], {
      detached: true,
      stdio: ['ignore', output, output],
      env: { ...process.env, ...env },
    });
  } finally {
    closeSync(output);
  }
  let running = true;
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      live.delete(handle);
      resolve(code ?? signal ?? 'SIGKILL');
    });
    child.once('error', () => {
      running = false;
      live.delete(handle);
      resolve(1);
    });
  });
  const pid = child.pid ?? -1;
  const handle: Child = {
    name,
    pid,
    exited,
    get running() {
      return running;
    },
    kill: async () => {
      killGroup(pid);
      await exited;
    },
  };
  live.add(handle);
  return handle;
}

function killGroup(pid: number): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** SIGKILLs every child still running; for `finally` blocks and signal handlers. */
export async function killAllChildren(): Promise<void> {
  const children = [...live];
  for (const child of children) killGroup(child.pid);
  await Promise.all(children.map((child) => child.exited));
}

/** The last `bytes` of a child's output file, for error messages. */
export function outputTail(path: string, bytes = 2000): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}

/** The last line of `output` that starts with an error's name (`Error: …`, `PostgresError: …`). */
export function lastErrorLine(output: string): string {
  return output.match(/^\w*Error: .*$/gm)?.at(-1) ?? 'no error line';
}
