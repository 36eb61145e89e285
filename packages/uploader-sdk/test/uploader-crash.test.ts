import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from './support/fixtures.js';
import { countsOf, tempDirectory } from './support/harness.js';

const child = fileURLToPath(new URL('./support/crash-child.ts', import.meta.url));
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** Runs the child until it printed `killAfter` ids, SIGKILLs it, and returns every id it printed. */
async function enqueueThenKill(
  directory: string,
  endpoint: string,
  count: number,
  killAfter: number,
  kind: 'records' | 'blobs' = 'records',
) {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, directory, endpoint, String(count), kind], {
    cwd: packageRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const printed: string[] = [];
  let finished = false;
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    proc.on('exit', (_code, signal) => resolve(signal)),
  );
  for await (const line of createInterface({ input: proc.stdout })) {
    if (line === 'done') finished = true;
    else printed.push(line);
    if (printed.length === killAfter) proc.kill('SIGKILL');
  }
  return { printed, signal: await exited, finished };
}

describe('crash', () => {
  it('delivers exactly once every record whose enqueue resolved before a SIGKILL mid-stream', async ({
    server,
    openUploader,
  }) => {
    const directory = await tempDirectory();
    const { printed, signal, finished } = await enqueueThenKill(directory, server.url, 20_000, 8000);
    expect(signal).toBe('SIGKILL');
    expect(finished).toBe(false);
    expect(printed.length).toBeGreaterThanOrEqual(8000);
    expect(printed.length).toBeLessThan(20_000);

    const { uploader } = await openUploader({ endpoint: server.url, directory });
    await uploader.flush();
    const counts = await countsOf(server, printed);
    const missing = printed.filter((_, index) => counts[index] !== 1);
    expect(missing).toEqual([]);
    // Nothing is stored twice: the primary key would forbid it, and every stored crash record is one we sent.
    const [total] = await server.query<{ n: string | number }>(
      "select count(*) as n from items where source = $1 and type = 'crash'",
      [server.source],
    );
    expect(Number(total!.n)).toBeGreaterThanOrEqual(printed.length);
    expect(Number(total!.n)).toBeLessThanOrEqual(20_000);
    expect(uploader.stats().queued).toBe(0);
  }, 120_000);

  it('delivers exactly once every blob whose enqueue resolved before a SIGKILL, and leaves no copies behind', async ({
    server,
    openUploader,
  }) => {
    const directory = await tempDirectory();
    const { printed, signal } = await enqueueThenKill(directory, server.url, 2000, 300, 'blobs');
    expect(signal).toBe('SIGKILL');
    expect(printed.length).toBeGreaterThanOrEqual(300);

    const { uploader } = await openUploader({ endpoint: server.url, directory });
    await uploader.flush();
    const counts = await countsOf(server, printed);
    expect(printed.filter((_, index) => counts[index] !== 1)).toEqual([]);
    expect(await readdir(join(directory, 'blob-data'))).toEqual([]);
    expect(uploader.stats()).toMatchObject({ queued: 0, queuedBytes: 0 });
  }, 120_000);
});
