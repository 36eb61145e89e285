import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDirectory } from './support/harness.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const child = fileURLToPath(new URL('./support/tail-lifetime-child.ts', import.meta.url));

/** Runs the child in `mode`; resolves with its exit code, or `alive` if it still runs after `waitMs`. */
async function lifetime(mode: string, waitMs: number): Promise<{ shipped: boolean; exit: number | 'alive' }> {
  const directory = await tempDirectory('sluice-tail-lifetime-');
  const proc = spawn(process.execPath, ['--import', 'tsx', child, directory, mode], {
    cwd: packageRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let shipped = false;
  createInterface({ input: proc.stdout }).on('line', (line) => {
    if (line === 'shipped') shipped = true;
  });
  const exit = await new Promise<number | 'alive'>((resolve) => {
    const timer = setTimeout(() => resolve('alive'), waitMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
  if (exit === 'alive') proc.kill('SIGKILL');
  return { shipped, exit };
}

describe('tailer and process lifetime', () => {
  it('lets the process exit once stop() and close() resolved', async () => {
    expect(await lifetime('stop', 15_000)).toEqual({ shipped: true, exit: 0 });
  });

  it('keeps the process alive while a tailer runs, like a listening server', async () => {
    expect(await lifetime('running', 3000)).toEqual({ shipped: true, exit: 'alive' });
  });

  it('never keeps the process alive with keepAlive: false', async () => {
    expect(await lifetime('unref', 15_000)).toEqual({ shipped: true, exit: 0 });
  });
});
