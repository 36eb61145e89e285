import { appendFile, link, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { type TailEvents, tailDirectory } from '../src/index.js';
import { tempDirectory } from './support/harness.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import { lines, numberedLines } from './support/tail-harness.js';

// Two names of one file (a hard link, as some log setups keep a `current.log` beside the dated name) are
// one file: it is followed once, not taken for a rotation at every listing, and each line is stored once.
describe('tailDirectory: a file with two names in the directory', () => {
  test.for(['before', 'after'] as const)(
    'is followed once and every line is stored once (second name made %s the tailer starts)',
    async (when, { server, cleanup, uploader }) => {
      const logs = await tempDirectory('sluice-tail-');
      const path = join(logs, 'app-2026-11-24.log');
      const first = numberedLines('linked-a', 30);
      await writeFile(path, lines(first));
      if (when === 'before') await link(path, join(logs, 'current.log'));
      const tail = tailDirectory(logs, { uploader, pollIntervalMs: 30, checkpointIntervalMs: 20 });
      cleanup.add(() => tail.stop());
      const rotated: TailEvents['rotated'][] = [];
      tail.on('rotated', (event) => rotated.push(event));
      await expectStoredExactly(server, first, 8_000);
      if (when === 'after') await link(path, join(logs, 'current.log'));
      const expected = [...first];
      for (let round = 0; round < 5; round += 1) {
        const more = numberedLines(`linked-b${round}`, 10);
        await appendFile(path, lines(more));
        expected.push(...more);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      await expectStoredExactly(server, expected, 8_000);
      await uploader.flush();
      expect(await uploader.deadLetters()).toEqual([]);
      expect(rotated).toEqual([]);
      expect(tail.stats().files).toHaveLength(1);
    },
  );
});
