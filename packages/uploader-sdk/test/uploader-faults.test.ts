import { isAuthenticationError } from '../src/index.js';
import { errorAnswer, type FaultProxy } from './support/fault-proxy.js';
import { describe, expect, it } from './support/fixtures.js';
import { countsOf, enqueueMany, notStoredOnce } from './support/harness.js';

const batchRequests = (faults: FaultProxy) =>
  faults.requests.filter((request) => request.path === '/v1/batch');

describe('uploader under faults (real API behind a scripted proxy)', () => {
  it('delivers everything exactly once when 20% of responses are lost after the server committed', async ({
    server,
    openUploader,
    faults,
  }) => {
    let n = 0;
    faults.decide = (request) =>
      request.url === '/v1/batch' && ++n % 5 === 0 ? { kind: 'drop-response' } : { kind: 'forward' };
    const { uploader } = await openUploader({ endpoint: faults.url, maxBatchItems: 50 });
    const ids = await enqueueMany(uploader, 4000);
    await uploader.flush();
    expect(await notStoredOnce(server, ids)).toEqual([]);
    const dropped = batchRequests(faults).filter((request) => request.action === 'drop-response').length;
    expect(dropped).toBeGreaterThanOrEqual(Math.floor(batchRequests(faults).length / 5));
    const stats = uploader.stats();
    // Every item is acknowledged once; the resent ones come back as server-side duplicates.
    expect(stats.delivered).toBe(4000);
    expect(stats.duplicates).toBeGreaterThan(0);
    expect(stats.retries).toBeGreaterThanOrEqual(stats.duplicates);
  });

  it('sends nothing before a 429 Retry-After has elapsed, then delivers', async ({
    server,
    openUploader,
    faults,
  }) => {
    let limited = 0;
    faults.decide = (request) =>
      request.url === '/v1/batch' && limited++ === 0
        ? errorAnswer(429, 'RATE_LIMITED', { 'retry-after': '1' })
        : { kind: 'forward' };
    const { uploader } = await openUploader({ endpoint: faults.url, maxConcurrency: 4 });
    const retries: number[] = [];
    uploader.on('retry', (event) => retries.push(event.delayMs));
    const ids = await enqueueMany(uploader, 300);
    await uploader.flush();
    const [first, ...rest] = batchRequests(faults);
    expect(first!.action).toBe('respond');
    for (const request of rest) expect(request.at - first!.at).toBeGreaterThanOrEqual(990);
    expect(retries[0]).toBeGreaterThanOrEqual(1000);
    expect(await notStoredOnce(server, ids)).toEqual([]);
  });

  it('backs off on 503 with one probe per round (no retry storm), honouring Retry-After, then delivers', async ({
    server,
    openUploader,
    faults,
  }) => {
    let unavailable = 0;
    faults.decide = (request) =>
      request.url === '/v1/batch' && unavailable++ < 2
        ? errorAnswer(503, 'UNAVAILABLE', { 'retry-after': '1' })
        : { kind: 'forward' };
    const { uploader } = await openUploader({ endpoint: faults.url, maxBatchItems: 20 });
    const ids = await enqueueMany(uploader, 400);
    await uploader.flush();
    const requests = batchRequests(faults);
    expect(requests.filter((request) => request.action === 'respond')).toHaveLength(2);
    // 20 batches were waiting, yet each outage round cost one request, each a full Retry-After apart.
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(990);
    expect(requests[2]!.at - requests[1]!.at).toBeGreaterThanOrEqual(990);
    expect(await notStoredOnce(server, ids)).toEqual([]);
  });

  it('splits a batch on 413 until the pieces fit, losing nothing', async ({
    server,
    openUploader,
    faults,
  }) => {
    faults.decide = (request) => {
      if (request.url === '/v1/limits') return errorAnswer(404, 'NOT_FOUND');
      const length = Number(request.headers['content-length'] ?? 0);
      return request.url === '/v1/batch' && length > 3000
        ? errorAnswer(413, 'PAYLOAD_TOO_LARGE')
        : { kind: 'forward' };
    };
    const { uploader } = await openUploader({
      endpoint: faults.url,
      gzipMinBytes: 10_000_000,
      maxBatchItems: 200,
    });
    const ids = await enqueueMany(uploader, 500, 60);
    await uploader.flush();
    expect(await notStoredOnce(server, ids)).toEqual([]);
    const requests = batchRequests(faults);
    expect(requests.some((request) => request.action === 'respond')).toBe(true);
    expect(uploader.stats()).toMatchObject({ delivered: 500, dead: 0 });
  });

  it('pauses on 401 keeping every record, then delivers once the key is fixed', async ({
    server,
    openUploader,
    faults,
  }) => {
    const { uploader } = await openUploader({ endpoint: faults.url, apiKey: 'wrong-key' });
    const errors: Error[] = [];
    uploader.on('error', (error) => errors.push(error));
    const ids = await enqueueMany(uploader, 200);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const refused = batchRequests(faults).length;
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(8);
    expect(errors.some(isAuthenticationError)).toBe(true);
    expect(uploader.stats()).toMatchObject({ paused: true, queued: 200, delivered: 0 });
    expect((await countsOf(server, ids)).every((count) => count === 0)).toBe(true);
    // Paused means paused: no more attempts while the key is wrong.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(batchRequests(faults).length).toBe(refused);

    uploader.setApiKey('test-key');
    await uploader.flush();
    expect(await notStoredOnce(server, ids)).toEqual([]);
    expect(uploader.stats()).toMatchObject({ paused: false, queued: 0, delivered: 200 });
  });

  it('re-probes a refused key slowly and resumes by itself once the server accepts it again', async ({
    server,
    openUploader,
    faults,
  }) => {
    let refusals = 0;
    faults.decide = (request) =>
      request.url === '/v1/batch' && refusals++ < 2 ? errorAnswer(401, 'UNAUTHORIZED') : { kind: 'forward' };
    const { uploader } = await openUploader({ endpoint: faults.url, authRetryMs: 400 });
    const ids = await enqueueMany(uploader, 100);
    await uploader.flush();
    const requests = batchRequests(faults);
    expect(requests.slice(0, 2).map((request) => request.action)).toEqual(['respond', 'respond']);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(390);
    expect(requests[2]!.at - requests[1]!.at).toBeGreaterThanOrEqual(390);
    expect(await notStoredOnce(server, ids)).toEqual([]);
  });

  it('keeps probing slowly while offline (no busy loop) and delivers once the server is back', async ({
    server,
    openUploader,
    faults,
  }) => {
    await faults.down();
    let attempts = 0;
    const { uploader } = await openUploader({
      endpoint: faults.url,
      backoffBaseMs: 100,
      backoffMaxMs: 800,
      fetch: (input, init) => {
        attempts += 1;
        return fetch(input, init);
      },
    });
    const ids = await enqueueMany(uploader, 300);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const offlineAttempts = attempts;
    expect(offlineAttempts).toBeGreaterThanOrEqual(2);
    expect(offlineAttempts).toBeLessThanOrEqual(30);
    expect(uploader.stats().queued).toBe(300);

    await faults.up();
    const back = performance.now();
    await uploader.flush();
    expect(performance.now() - back).toBeLessThan(5000);
    expect(await notStoredOnce(server, ids)).toEqual([]);
  });
});
