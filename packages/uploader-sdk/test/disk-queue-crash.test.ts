import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDiskQueue } from '../src/disk-queue/index.js';
import { numbersOf, readAll, tempDirectory } from './disk-queue-helpers.js';

const CHILD = fileURLToPath(new URL('./disk-queue-crash-child.ts', import.meta.url));
const PACKAGE_DIRECTORY = fileURLToPath(new URL('..', import.meta.url));

/** Runs the child until it has reported `appends` resolved appends, then SIGKILLs it. */
function runAndKill(
  directory: string,
  first: number,
  appends: number,
): Promise<{ appended: number[]; acked: number[]; ackStarted: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, directory, String(first)], {
      cwd: PACKAGE_DIRECTORY,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const appended: number[] = [];
    const acked: number[] = [];
    const ackStarted: number[] = [];
    let pending = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [kind, n] = line.split(' ');
        if (kind === 'A') appended.push(Number(n));
        if (kind === 'K') acked.push(Number(n));
        if (kind === 'S') ackStarted.push(Number(n));
      }
      if (!killed && appended.length >= appends) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ appended, acked, ackStarted });
      else reject(new Error(`the child exited with ${code} before it was killed: ${stderr}`));
    });
  });
}

describe('disk queue after SIGKILL', () => {
  it('delivers every resolved append exactly once and in order, and no resolved ack again', async () => {
    const directory = await tempDirectory();
    const resolvedAppends = new Set<number>();
    const resolvedAcks = new Set<number>();
    const startedAcks = new Set<number>();
    let first = 0;
    for (let round = 0; round < 3; round += 1) {
      const { appended, acked, ackStarted } = await runAndKill(directory, first, 400 + round * 150);
      for (const n of appended) resolvedAppends.add(n);
      for (const n of acked) resolvedAcks.add(n);
      for (const n of ackStarted) startedAcks.add(n);
      first = Math.max(...appended) + 100;
    }

    const queue = await openDiskQueue({ directory });
    const delivered = numbersOf(await readAll(queue));
    await queue.close();
    // In order and never twice: strictly increasing within each round's numbering.
    expect(delivered).toEqual([...delivered].sort((a, b) => a - b));
    expect(new Set(delivered).size).toBe(delivered.length);
    const present = new Set(delivered);
    // An ack cut short by the kill may or may not have reached the ledger; any other entry must be back.
    const missing = [...resolvedAppends].filter((n) => !startedAcks.has(n) && !present.has(n));
    const ackedButBack = delivered.filter((n) => resolvedAcks.has(n));
    expect({ missing, ackedButBack }).toEqual({ missing: [], ackedButBack: [] });
    expect(resolvedAppends.size).toBeGreaterThan(1000);
    expect(resolvedAcks.size).toBeGreaterThan(0);
  }, 60_000);
});
