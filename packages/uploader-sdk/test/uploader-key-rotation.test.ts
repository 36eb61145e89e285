import { isAuthenticationError } from '../src/index.js';
import { describe, expect, it } from './support/fixtures.js';
import { type Cleanup, enqueueMany, waitFor } from './support/harness.js';
import {
  batchIds,
  type ScriptedServer,
  sendJson,
  startScriptedServer,
  storeOnce,
} from './support/scripted-server.js';

/**
 * An API that accepts only `acceptedKey`, answers a refused key's request late (as a slow auth backend
 * or a congested link would), and stores each id once (a resent id is `duplicate`).
 */
async function rotatingKeyServer(
  cleanup: Cleanup,
  acceptedKey: string,
  refusalDelayMs: number,
): Promise<{ server: ScriptedServer; stored: Map<string, number> }> {
  const stored = new Map<string, number>();
  const server = await startScriptedServer((request, response) => {
    if (request.path !== '/v1/batch') return sendJson(response, 404, {});
    if (request.headers.authorization !== `Bearer ${acceptedKey}`) {
      setTimeout(
        () =>
          sendJson(response, 401, {
            error: { code: 'UNAUTHORIZED', message: 'unknown API key', retryable: false },
          }),
        refusalDelayMs,
      );
      return;
    }
    const ids = batchIds(request);
    const answer = storeOnce(ids, stored);
    sendJson(response, 200, answer);
  });
  cleanup.add(() => server.close());
  return { server, stored };
}

const batches = (server: ScriptedServer) => server.requests.filter((request) => request.path === '/v1/batch');

describe('rotating the API key while requests with the old key are on the wire', () => {
  it('sends on with the new key when the old key is refused late: no pause, nothing lost', async ({
    cleanup,
    openUploader,
  }) => {
    const { server, stored } = await rotatingKeyServer(cleanup, 'new-key', 800);
    const { uploader } = await openUploader({ endpoint: server.url, apiKey: 'old-key', authRetryMs: 60_000 });
    const errors: Error[] = [];
    uploader.on('error', (error) => errors.push(error));
    const ids = await enqueueMany(uploader, 20);
    await waitFor(() => batches(server).length > 0);
    uploader.setApiKey('new-key');
    const more = await enqueueMany(uploader, 20);

    const result = await uploader.flush({ timeoutMs: 5000 });
    expect(result.complete).toBe(true);
    expect(errors.filter(isAuthenticationError)).toEqual([]);
    expect(uploader.stats()).toMatchObject({ paused: false, queued: 0, delivered: 40, dead: 0 });
    const all = [...ids, ...more];
    expect(all.filter((id) => stored.get(id) !== 1)).toEqual([]);
  });

  it('still pauses when the new key is refused too, without a burst of requests', async ({
    cleanup,
    openUploader,
  }) => {
    const { server } = await rotatingKeyServer(cleanup, 'good-key', 300);
    const { uploader } = await openUploader({ endpoint: server.url, apiKey: 'old-key', authRetryMs: 60_000 });
    const errors: Error[] = [];
    uploader.on('error', (error) => errors.push(error));
    await enqueueMany(uploader, 20);
    await waitFor(() => batches(server).length > 0);
    uploader.setApiKey('also-refused');
    await waitFor(() => errors.some(isAuthenticationError));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(uploader.stats()).toMatchObject({ paused: true, queued: 20, delivered: 0, dead: 0 });
    expect(batches(server).length).toBeLessThanOrEqual(4);
    expect(batches(server).some((request) => request.headers.authorization === 'Bearer also-refused')).toBe(
      true,
    );
  });
});
