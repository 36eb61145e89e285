import { DEFAULT_LIMITS } from '@sluice/contracts';
import { describe, expect, it } from './support/fixtures.js';
import { enqueueMany, notStoredOnce, waitFor } from './support/harness.js';

const LOWERED = 20;

/**
 * The real API, whose operator lowers `maxBatchItems` at runtime once `lowered` is set: from then on it
 * publishes the lower limit and refuses larger batches with the contract's 413. Records every batch size.
 */
function lowerableServer() {
  const state = { lowered: false, batchSizes: [] as number[], refused: 0 };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const serverFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    if (state.lowered && path === '/v1/limits')
      return json(200, { ...DEFAULT_LIMITS, maxBatchItems: LOWERED });
    if (path === '/v1/batch') {
      const { items } = (await request.clone().json()) as { items: unknown[] };
      state.batchSizes.push(items.length);
      if (state.lowered && items.length > LOWERED) {
        state.refused += 1;
        return json(413, {
          error: { code: 'PAYLOAD_TOO_LARGE', message: 'too many items', retryable: false },
        });
      }
    }
    return fetch(request);
  };
  return { state, fetch: serverFetch };
}

describe('server limits', () => {
  it('are asked for again periodically: lowered at runtime, batches shrink without a restart', async ({
    server,
    openUploader,
  }) => {
    const { state, fetch } = lowerableServer();
    const { uploader } = await openUploader({
      endpoint: server.url,
      fetch,
      gzipMinBytes: 10_000_000,
      limitsRefreshMs: 300,
    });
    const before = await enqueueMany(uploader, 300);
    await uploader.flush();
    expect(Math.max(...state.batchSizes)).toBeGreaterThan(LOWERED);

    state.lowered = true;
    await waitFor(() => uploader.stats().limits.maxBatchItems === LOWERED, 3000);
    state.batchSizes.length = 0;
    const after = await enqueueMany(uploader, 300);
    await uploader.flush();
    expect(Math.max(...state.batchSizes)).toBeLessThanOrEqual(LOWERED);
    expect(state.refused).toBe(0);
    expect(await notStoredOnce(server, [...before, ...after])).toEqual([]);
  });

  it('are asked for again at once after a 413, so later batches fit', async ({ server, openUploader }) => {
    const { state, fetch } = lowerableServer();
    const { uploader } = await openUploader({
      endpoint: server.url,
      fetch,
      gzipMinBytes: 10_000_000,
    });
    const first = await enqueueMany(uploader, 100);
    await uploader.flush();
    state.lowered = true;
    // Batches read before the change are refused and split; the refusal refreshes the limits.
    const second = await enqueueMany(uploader, 300);
    await uploader.flush();
    expect(state.refused).toBeGreaterThan(0);
    expect(uploader.stats().limits.maxBatchItems).toBe(LOWERED);
    state.batchSizes.length = 0;
    state.refused = 0;
    const third = await enqueueMany(uploader, 300);
    await uploader.flush();
    expect(Math.max(...state.batchSizes)).toBeLessThanOrEqual(LOWERED);
    expect(state.refused).toBe(0);
    expect(await notStoredOnce(server, [...first, ...second, ...third])).toEqual([]);
    expect(uploader.stats()).toMatchObject({ dead: 0, queued: 0 });
  });
});
