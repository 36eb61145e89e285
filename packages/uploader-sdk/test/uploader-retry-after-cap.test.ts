import { describe, expect, it } from './support/fixtures.js';
import { type Cleanup, enqueueMany, waitFor } from './support/harness.js';
import { type ScriptedServer, sendJson, startScriptedServer } from './support/scripted-server.js';

/** Thirty days, a legal `Retry-After` that no timer can hold. */
const THIRTY_DAYS_S = 30 * 24 * 3600;

async function rateLimitedServer(cleanup: Cleanup): Promise<ScriptedServer> {
  const server = await startScriptedServer((request, response) => {
    if (request.path !== '/v1/batch') return sendJson(response, 404, {});
    sendJson(
      response,
      429,
      { error: { code: 'RATE_LIMITED', message: 'come back next month', retryable: true } },
      { 'retry-after': String(THIRTY_DAYS_S) },
    );
  });
  cleanup.add(() => server.close());
  return server;
}

/** Collects the process warnings emitted while the test runs. */
function collectWarnings(cleanup: Cleanup): Error[] {
  const warnings: Error[] = [];
  const listener = (warning: Error): void => {
    warnings.push(warning);
  };
  process.on('warning', listener);
  cleanup.add(async () => process.off('warning', listener));
  return warnings;
}

const batches = (server: ScriptedServer) => server.requests.filter((request) => request.path === '/v1/batch');

describe('a huge Retry-After', () => {
  it('schedules the next attempt at the one-hour cap: no timer overflow, no request storm', async ({
    cleanup,
    openUploader,
  }) => {
    const warnings = collectWarnings(cleanup);
    const server = await rateLimitedServer(cleanup);
    const { uploader } = await openUploader({ endpoint: server.url });
    const delays: number[] = [];
    uploader.on('retry', (event) => delays.push(event.delayMs));
    await enqueueMany(uploader, 50);
    await waitFor(() => delays.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(delays[0]).toBe(3_600_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(3_600_000);
    expect(batches(server)).toHaveLength(1);
    expect(warnings.filter((warning) => warning.name === 'TimeoutOverflowWarning')).toEqual([]);
    expect(uploader.stats()).toMatchObject({ queued: 50, delivered: 0, dead: 0 });
  });

  it('waits no longer than `maxRetryDelayMs` between attempts, whatever the server asks', async ({
    cleanup,
    openUploader,
  }) => {
    const warnings = collectWarnings(cleanup);
    const server = await rateLimitedServer(cleanup);
    const { uploader } = await openUploader({ endpoint: server.url, maxRetryDelayMs: 600 });
    const delays: number[] = [];
    uploader.on('retry', (event) => delays.push(event.delayMs));
    await enqueueMany(uploader, 50);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    // One attempt per capped delay: about 2000 / 600 of them, not thousands.
    expect(batches(server).length).toBeGreaterThanOrEqual(2);
    expect(batches(server).length).toBeLessThanOrEqual(5);
    expect(delays.every((delay) => delay <= 600)).toBe(true);
    expect(warnings.filter((warning) => warning.name === 'TimeoutOverflowWarning')).toEqual([]);
    expect(uploader.stats()).toMatchObject({ queued: 50, dead: 0 });
  });

  it('refuses a cap that no timer can hold, naming the option', async ({ openUploader }) => {
    await expect(openUploader({ endpoint: 'http://127.0.0.1:9', maxRetryDelayMs: 2 ** 31 })).rejects.toThrow(
      /`maxRetryDelayMs`/,
    );
    await expect(openUploader({ endpoint: 'http://127.0.0.1:9', authRetryMs: 2 ** 40 })).rejects.toThrow(
      /`authRetryMs`/,
    );
  });
});
