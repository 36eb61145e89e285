import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as test } from './support/cli-fixtures.js';
import { finished, sluice, spawnSluice } from './support/cli-run.js';
import { waitFor } from './support/harness.js';

/** An endpoint nothing listens on: every request fails to connect, so items stay queued. */
const DOWN = 'http://127.0.0.1:1';

describe('sluice send interrupted', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    test(`${signal} ends it with exit status ${code}, keeping what was not delivered queued`, async ({
      dir,
      files,
    }) => {
      const file = join(files, 'a.bin');
      await writeFile(file, Buffer.alloc(4096, 1));
      const child = spawnSluice(['send', file, '--endpoint', DOWN, '--dir', dir], {
        env: { SLUICE_API_KEY: 'test-key' },
      });
      const result = finished(child);
      let stderr = '';
      child.stderr!.on('data', (chunk: string) => {
        stderr += chunk;
      });
      // The first retry notice: the file is queued and the uploader is trying to send it.
      await waitFor(() => stderr.includes('retrying 1 blob'), 20_000);
      child.kill(signal);
      const ended = await result;
      expect(ended.code).toBe(code);
      expect(ended.stderr).toContain(`interrupted; 1 item stays queued in ${dir}`);
      expect(ended.stdout).toBe('0 delivered, 0 dead\n');
      expect((await sluice(['status', '--dir', dir])).stdout).toContain('total\t1 queued\t4096 bytes\n');
    }, 60_000);
  }
});
