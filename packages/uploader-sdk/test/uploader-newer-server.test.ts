import { rm } from 'node:fs/promises';
import { DEFAULT_LIMITS } from '@sluice/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { createUploader } from '../src/index.js';
import { tempDirectory } from './support/harness.js';
import { batchIds, type ScriptedServer, sendJson, startScriptedServer } from './support/scripted-server.js';

// A server newer than the SDK may add keys to its answers and codes to its tables. Clients in the field
// cannot be updated at once: they must go on delivering, not take every answer for an invalid one.
let server: ScriptedServer | undefined;
let directory: string | undefined;
afterEach(async () => {
  await server?.close();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  server = undefined;
  directory = undefined;
});

describe('an SDK talking to a newer server', () => {
  it('delivers through answers with keys and item error codes it does not know, and honours the limits it knows', async () => {
    const batches: string[][] = [];
    server = await startScriptedServer((request, response) => {
      if (request.path === '/v1/limits') {
        return sendJson(response, 200, { ...DEFAULT_LIMITS, maxBatchItems: 2, maxFutureThing: 7 });
      }
      const ids = batchIds(request);
      batches.push(ids);
      const results = ids.map((id) =>
        id === 'quota-2'
          ? { id, status: 'rejected', error: { code: 'QUOTA_EXCEEDED', message: 'over quota', hint: 'x' } }
          : { id, status: 'stored', region: 'eu-west' },
      );
      const rejected = results.filter((result) => result.status === 'rejected').length;
      return sendJson(response, 200, {
        results,
        counts: { stored: ids.length - rejected, duplicate: 0, conflict: 0, rejected, retry: 0, deferred: 0 },
        requestId: 'req-1',
      });
    });
    directory = await tempDirectory('sluice-newer-server-');
    const uploader = await createUploader({ endpoint: server.url, apiKey: 'k', directory });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (let i = 0; i < 5; i += 1) await uploader.enqueue({ id: `quota-${i}`, type: 'click', data: { i } });
      const result = await uploader.flush({ timeoutMs: 10_000 });
      expect(result).toMatchObject({ complete: true, delivered: 4, dead: 1 });
      const dead = await uploader.deadLetters();
      expect(dead.map((letter) => [letter.id, letter.reason.code])).toEqual([['quota-2', 'QUOTA_EXCEEDED']]);
      expect(batches.flat().sort()).toEqual(['quota-0', 'quota-1', 'quota-2', 'quota-3', 'quota-4']);
      expect(Math.max(...batches.map((batch) => batch.length))).toBeLessThanOrEqual(2);
    } finally {
      await uploader.close();
    }
  });
});
