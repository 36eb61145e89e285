import type { ItemResult } from '@sluice/contracts';
import type { RetryEvent } from '../src/index.js';
import { describe, expect, it } from './support/fixtures.js';
import type { Cleanup } from './support/harness.js';
import { type ScriptedServer, sendJson, startScriptedServer } from './support/scripted-server.js';

interface SentItem {
  id: string;
  data: { kind?: string };
}

/** A scripted ingest server keeping its own "table" of stored ids, answering per item. */
async function scriptedIngest(
  cleanup: Cleanup,
  answer: (item: SentItem, seen: number) => ItemResult | undefined,
) {
  const stored = new Map<string, number>();
  const seen = new Map<string, number>();
  const server: ScriptedServer = await startScriptedServer((request, response) => {
    if (request.path !== '/v1/batch') return sendJson(response, 404, {});
    const { items } = JSON.parse(request.body.toString()) as { items: SentItem[] };
    const results = items.map((item): ItemResult => {
      const times = (seen.get(item.id) ?? 0) + 1;
      seen.set(item.id, times);
      const scripted = answer(item, times);
      if (scripted !== undefined) return scripted;
      const before = stored.get(item.id) ?? 0;
      stored.set(item.id, before + 1);
      return { id: item.id, status: before === 0 ? 'stored' : 'duplicate' };
    });
    const counts = { stored: 0, duplicate: 0, conflict: 0, rejected: 0, retry: 0 };
    for (const result of results) counts[result.status] += 1;
    sendJson(response, 200, { results, counts });
  });
  cleanup.add(() => server.close());
  return { server, stored };
}

describe('per-item outcomes', () => {
  it('acks stored items, dead-letters rejected ones with the reason, and retries only the transient ones', async ({
    cleanup,
    openUploader,
  }) => {
    const { server, stored } = await scriptedIngest(cleanup, (item, seen) => {
      if (item.data.kind === 'bad') {
        return { id: item.id, status: 'rejected', error: { code: 'INVALID_ITEM', message: 'no good' } };
      }
      if (item.data.kind === 'flaky' && seen < 3) {
        return { id: item.id, status: 'retry', error: { code: 'TEMPORARY_FAILURE', message: 'later' } };
      }
      return undefined;
    });
    const { uploader } = await openUploader({ endpoint: server.url });
    const retries: RetryEvent[] = [];
    uploader.on('retry', (event) => retries.push(event));
    const good = await uploader.enqueue({ type: 't', data: { kind: 'good' } });
    const bad = await uploader.enqueue({ type: 't', data: { kind: 'bad' } });
    const flaky = await uploader.enqueue({ type: 't', data: { kind: 'flaky' } });
    await uploader.flush();

    expect(stored.get(good.id)).toBe(1);
    expect(stored.get(flaky.id)).toBe(1);
    expect(stored.has(bad.id)).toBe(false);
    // The good item was never sent again once acknowledged.
    const sentIds = server.requests
      .filter((request) => request.path === '/v1/batch')
      .flatMap((request) =>
        (JSON.parse(request.body.toString()) as { items: SentItem[] }).items.map((item) => item.id),
      );
    expect(sentIds.filter((id) => id === good.id)).toHaveLength(1);
    expect(sentIds.filter((id) => id === flaky.id)).toHaveLength(3);
    expect(retries.map((event) => [event.ids, event.reason])).toEqual([
      [[flaky.id], 'TEMPORARY_FAILURE'],
      [[flaky.id], 'TEMPORARY_FAILURE'],
    ]);
    const letters = await uploader.deadLetters();
    expect(letters).toMatchObject([
      { id: bad.id, status: 'rejected', reason: { code: 'INVALID_ITEM', message: 'no good' } },
    ]);
    expect(uploader.stats()).toMatchObject({ delivered: 2, dead: 1, retries: 2, queued: 0 });
  });

  it('retries a 200 whose body is not an ingest response, and delivers once', async ({
    cleanup,
    openUploader,
  }) => {
    let broken = 2;
    const { server, stored } = await scriptedIngest(cleanup, () => undefined);
    const inner = server.handler;
    server.handler = (request, response) => {
      if (request.path === '/v1/batch' && broken-- > 0) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"ok":true}');
        return;
      }
      return inner(request, response);
    };
    const { uploader } = await openUploader({ endpoint: server.url });
    const { id } = await uploader.enqueue({ type: 't', data: 1 });
    await uploader.flush();
    expect(stored.get(id)).toBe(1);
    expect(uploader.stats()).toMatchObject({ delivered: 1, retries: 2 });
  });

  it('retries a response that answers other ids than it was sent', async ({ cleanup, openUploader }) => {
    let swapped = 1;
    const { server, stored } = await scriptedIngest(cleanup, () => undefined);
    const inner = server.handler;
    server.handler = (request, response) => {
      if (request.path === '/v1/batch' && swapped-- > 0) {
        const { items } = JSON.parse(request.body.toString()) as { items: SentItem[] };
        const results = items.map((item) => ({ id: `not-${item.id}`, status: 'stored' }));
        const counts = { stored: results.length, duplicate: 0, conflict: 0, rejected: 0, retry: 0 };
        return sendJson(response, 200, { results, counts });
      }
      return inner(request, response);
    };
    const { uploader } = await openUploader({ endpoint: server.url });
    const { id } = await uploader.enqueue({ type: 't', data: 1 });
    await uploader.flush();
    expect(stored.get(id)).toBe(1);
    expect(uploader.stats()).toMatchObject({ delivered: 1, retries: 1 });
  });

  it('splits a batch the server refuses whole down to the one item, and dead-letters only that item', async ({
    cleanup,
    openUploader,
  }) => {
    const { server, stored } = await scriptedIngest(cleanup, () => undefined);
    const inner = server.handler;
    server.handler = (request, response) => {
      const items =
        request.path === '/v1/batch'
          ? (JSON.parse(request.body.toString()) as { items: SentItem[] }).items
          : [];
      if (items.some((item) => item.data.kind === 'poison')) {
        return sendJson(response, 400, {
          error: { code: 'INVALID_BATCH', message: 'cannot read it', retryable: false },
        });
      }
      return inner(request, response);
    };
    const { uploader } = await openUploader({ endpoint: server.url, maxBatchDelayMs: 200 });
    const ids = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        uploader.enqueue({ type: 't', data: { kind: i === 5 ? 'poison' : 'fine', i } }),
      ),
    );
    await uploader.flush();
    const poison = ids[5]!.id;
    for (const { id } of ids) expect(stored.get(id)).toBe(id === poison ? undefined : 1);
    expect(await uploader.deadLetters()).toMatchObject([{ id: poison, reason: { code: 'INVALID_BATCH' } }]);
  });
});

describe('logger', () => {
  it('reports retries and dead letters to the logger it is given', async ({ cleanup, openUploader }) => {
    const { server } = await scriptedIngest(cleanup, (item, seen) =>
      item.data.kind === 'bad'
        ? { id: item.id, status: 'rejected', error: { code: 'INVALID_ITEM', message: 'no' } }
        : seen === 1
          ? { id: item.id, status: 'retry', error: { code: 'TEMPORARY_FAILURE', message: 'later' } }
          : undefined,
    );
    const lines: string[] = [];
    const log = (level: string) => (object: Record<string, unknown>, message: string) =>
      lines.push(`${level} ${message} ${JSON.stringify(object)}`);
    const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
    const { uploader } = await openUploader({ endpoint: server.url, logger });
    await uploader.enqueue({ type: 't', data: { kind: 'bad' } });
    await uploader.enqueue({ type: 't', data: { kind: 'fine' } });
    await uploader.flush();
    expect(lines.some((line) => line.startsWith('warn items dead-lettered'))).toBe(true);
    expect(
      lines.some((line) => line.startsWith('debug retrying') && line.includes('TEMPORARY_FAILURE')),
    ).toBe(true);
  });
});
