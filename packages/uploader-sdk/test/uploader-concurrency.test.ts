import type { ItemResult } from '@sluice/contracts';
import { describe, expect, it } from './support/fixtures.js';
import { sendJson, startScriptedServer } from './support/scripted-server.js';

describe('adaptive request concurrency', () => {
  it('grows while the server keeps up, never beyond the maximum, and halves on 429', async ({
    cleanup,
    openUploader,
  }) => {
    let inFlight = 0;
    let peak = 0;
    let overloaded = false;
    const stored = new Set<string>();
    const server = await startScriptedServer(async (request, response) => {
      if (request.path !== '/v1/batch') return sendJson(response, 404, {});
      if (overloaded)
        return sendJson(
          response,
          429,
          { error: { code: 'RATE_LIMITED', message: 'slow', retryable: true } },
          { 'retry-after': '0' },
        );
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 40));
      inFlight -= 1;
      const { items } = JSON.parse(request.body.toString()) as { items: { id: string }[] };
      const results: ItemResult[] = items.map((item) => {
        const status = stored.has(item.id) ? 'duplicate' : 'stored';
        stored.add(item.id);
        return { id: item.id, status };
      });
      sendJson(response, 200, {
        results,
        counts: { stored: results.length, duplicate: 0, conflict: 0, rejected: 0, retry: 0 },
      });
    });
    cleanup.add(() => server.close());
    const { uploader } = await openUploader({
      endpoint: server.url,
      maxBatchItems: 20,
      minConcurrency: 1,
      maxConcurrency: 4,
      backoffBaseMs: 20,
      backoffMaxMs: 50,
    });
    expect(uploader.stats().concurrency).toBe(1);
    await Promise.all(Array.from({ length: 2000 }, (_, i) => uploader.enqueue({ type: 't', data: i })));
    await uploader.flush();
    expect(stored.size).toBe(2000);
    expect(uploader.stats().concurrency).toBe(4);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);

    overloaded = true;
    await Promise.all(Array.from({ length: 20 }, (_, i) => uploader.enqueue({ type: 't', data: i })));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(uploader.stats().concurrency).toBeLessThanOrEqual(2);
    overloaded = false;
    await uploader.flush();
    expect(stored.size).toBe(2020);
  });
});
