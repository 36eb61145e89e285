import { spawn } from 'node:child_process';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDirectory } from './support/harness.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const child = fileURLToPath(new URL('./support/tail-memory-child.ts', import.meta.url));

const MiB = 1024 * 1024;
const SMALL_LINES_PER_BLOCK = 15_000; // about 1.5 MiB of ~100-byte lines
/** One long line per block: 10 MiB ones, and one of 80 MiB that no whole-line buffer could hide. */
const LONG_LINES = [10, 10, 10, 10, 10, 10, 80].map((mib) => mib * MiB);
const BLOCKS = LONG_LINES.length;
const MAX_LINE_BYTES = 32_768; // the default

/** Writes BLOCKS × (small lines, one long line) with a fixed buffer; returns the records they make. */
async function generate(path: string): Promise<number> {
  const handle = await open(path, 'w');
  const long = Buffer.alloc(MiB, 'z');
  try {
    for (let block = 0; block < BLOCKS; block += 1) {
      const small: string[] = [];
      for (let i = 0; i < SMALL_LINES_PER_BLOCK; i += 1) {
        small.push(`2026-11-23T10:00:00Z block=${block} line=${i} msg=${'m'.repeat(60)}\n`);
      }
      await handle.write(small.join(''));
      for (let written = 0; written < LONG_LINES[block]!; written += MiB) await handle.write(long);
      await handle.write('\n');
    }
  } finally {
    await handle.close();
  }
  return BLOCKS * SMALL_LINES_PER_BLOCK + LONG_LINES.reduce((sum, bytes) => sum + bytes / MAX_LINE_BYTES, 0);
}

describe('memory', () => {
  it('tails a 160 MiB file with 10 and 80 MiB lines in bounded memory (peak RSS of a child grows < 100 MB)', async () => {
    const directory = await tempDirectory('sluice-tail-memory-');
    try {
      const path = join(directory, 'big.log');
      const expected = await generate(path);
      // A 64 MiB heap, as a small container would give: what the tailer holds must fit, whatever the file.
      // The young generation is pinned too: Node 24 sizes it from the machine's memory (up to 64 MiB per
      // semi-space here, 150 MB of mostly empty heap), which would measure V8's sizing, not the tailer.
      const proc = spawn(
        process.execPath,
        ['--max-old-space-size=64', '--max-semi-space-size=8', '--import', 'tsx', child, directory, path],
        {
          cwd: packageRoot,
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const [line] = await Promise.all([
        new Promise<string>((resolve) => createInterface({ input: proc.stdout }).once('line', resolve)),
        new Promise((resolve) => proc.on('exit', resolve)),
      ]);
      const result = JSON.parse(line) as {
        records: number;
        queued: number;
        bytes: number;
        baselineRssMb: number;
        peakRssMb: number;
        maxRssMb: number;
      };
      console.log('tail memory:', line);
      expect(result.records).toBe(expected);
      expect(result.queued).toBe(expected);
      expect(result.bytes).toBeGreaterThan(150 * MiB);
      // The child's baseline (Node, tsx compiling the sources, an open uploader) is ~90 MB; shipping 160 MiB
      // (an 80 MiB line included) may add GC slack, but nothing proportional to the file or a line.
      expect(result.peakRssMb - result.baselineRssMb).toBeLessThan(100);
      expect(result.maxRssMb).toBeLessThan(200);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 120_000);
});
