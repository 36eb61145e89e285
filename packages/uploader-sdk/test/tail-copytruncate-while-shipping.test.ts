import { appendFile, copyFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Tail, tailDirectory, tailFile, type Uploader } from '../src/index.js';
import { tempDirectory } from './support/harness.js';

const numbered = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);
const text = (lines: readonly string[]): string => lines.map((line) => `${line}\n`).join('');

// The queue holds the tailer back in the middle of a chunk (enqueue waits, as on a full quota) while
// logrotate copies and truncates the file and the app writes new content past the checkpoint to be.
describe.each(['tailFile', 'tailDirectory'] as const)(
  '%s: copytruncate while lines are being shipped',
  (kind) => {
    it('ships every line once: the copy is found and read on from where reading stood', async () => {
      const logs = await tempDirectory('sluice-tail-');
      const checkpointDirectory = await tempDirectory('sluice-tail-checkpoints-');
      const path = join(logs, 'app.log');
      const shipped: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let reached!: () => void;
      const holding = new Promise<void>((resolve) => {
        reached = resolve;
      });
      let blocked = false;
      const uploader = {
        async enqueue(input: { id: string; data: { line: string } }) {
          if (input.data.line === 'a-05' && !blocked) {
            blocked = true;
            reached();
            await held;
          }
          shipped.push(input.data.line);
          return { id: input.id };
        },
      } as unknown as Uploader;
      await writeFile(path, text(numbered('a', 10)));
      const options = {
        uploader,
        checkpointDirectory,
        pollIntervalMs: 20,
        rotateWaitMs: 200,
        checkpointIntervalMs: 20,
      };
      const tail: Tail = kind === 'tailFile' ? tailFile(path, options) : tailDirectory(logs, options);
      try {
        await holding;
        await appendFile(path, text(numbered('b', 10)));
        await copyFile(path, join(logs, 'app.log.1'));
        await truncate(path, 0);
        await appendFile(path, text(numbered('c-new-content-longer', 20)));
        release();
        await new Promise((resolve) => setTimeout(resolve, 3000));
      } finally {
        await tail.stop();
      }
      const expected = [...numbered('a', 10), ...numbered('b', 10), ...numbered('c-new-content-longer', 20)];
      expect([...shipped].sort()).toEqual(expected.sort());
    });
  },
);
