import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { type ErrorBody, type IngestResponse, parseRetryAfter } from '@sluice/contracts';
import type { TestServer } from '../src/testing.js';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record, storedItems } from './support/http.js';

const KiB = 1024;
const MAX_BATCH_BYTES = 256 * KiB;

// Budget at these limits: 16 × 256 KiB = 4 MiB in all, 8 × 256 KiB = 2 MiB for one source.
it.override({
  serverOverrides: {
    limits: {
      maxBatchItems: 1000,
      maxBatchBytes: MAX_BATCH_BYTES,
      maxItemDataBytes: 8 * KiB,
      maxBlobsPerRequest: 100,
      maxBlobRequestBytes: 1024 * KiB,
      maxBlobBytes: 512 * KiB,
      maxBlobMetaBytes: 4 * KiB,
    },
    auth: {
      apiKeys: [
        { source: 'test', key: 'test-key' },
        { source: 'other', key: 'other-key' },
        { source: 'third', key: 'third-key' },
      ],
    },
    rateLimit: { rps: 10_000, burst: 10_000 },
  },
});

/** A gzip batch of about 12 KB on the wire that decodes to just under MAX_BATCH_BYTES of JSON. */
function bomb(prefix: string): Buffer {
  const items = Array.from({ length: 300 }, (_, i) => ({
    id: `${prefix}-${i}`,
    type: 'bomb',
    ts: 1,
    data: { pad: 'x'.repeat(800) },
  }));
  const json = Buffer.from(JSON.stringify({ items }));
  expect(json.length).toBeLessThan(MAX_BATCH_BYTES);
  expect(json.length).toBeGreaterThan(MAX_BATCH_BYTES - 20 * KiB);
  return gzipSync(json);
}

interface Held {
  /** Status of the answer, if one came before the body was finished. */
  readonly answered: Promise<number | 'closed'>;
  /** Sends the rest of the body. */
  finish(): void;
  /** Closes the connection without finishing. */
  abort(): void;
}

/** Sends all of `body` but its last byte as a gzip batch with `key`, and keeps the request open. */
function holdOpen(server: TestServer, key: string, body: Buffer): Held {
  const url = new URL('/v1/batch', server.url);
  const req = request(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'content-length': body.length,
    },
  });
  const answered = new Promise<number | 'closed'>((resolve) => {
    req.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.on('error', () => resolve('closed'));
    req.on('close', () => resolve('closed'));
  });
  req.write(body.subarray(0, body.length - 1));
  return {
    answered,
    finish: () => req.end(body.subarray(body.length - 1)),
    abort: () => req.destroy(),
  };
}

async function settle(held: Held, within: number): Promise<number | 'pending' | 'closed'> {
  return Promise.race([
    held.answered,
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), within)),
  ]);
}

describe('decoded request bodies held at once are bounded, per source and in all', () => {
  it('answers one source past its share with 429 while another source is served, and frees the share when its requests end', async ({
    server,
  }) => {
    // 12 gzip bodies of ~12 KB that each decode to ~250 KiB, held open: the source's 2 MiB share takes 8.
    const held = Array.from({ length: 12 }, (_, i) => holdOpen(server, 'test-key', bomb(`share-${i}`)));
    const states = await Promise.all(held.map((h) => settle(h, 1500)));
    expect(states.filter((s) => s === 429)).toHaveLength(4);
    expect(states.filter((s) => s === 'pending')).toHaveLength(8);

    // Another source is served at once.
    const other = await postBatch<IngestResponse>(
      server,
      { items: [record('share-victim')] },
      { key: 'other-key' },
    );
    expect(other.status).toBe(200);
    expect(other.body.counts.stored).toBe(1);

    // A refused one says so, retryably.
    const refused = await postBatch<ErrorBody>(server, bomb('share-late'), {
      key: 'test-key',
      headers: { 'content-encoding': 'gzip' },
    });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(parseRetryAfter(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1000);

    // Finished, the held requests are stored; aborted ones store nothing; either way the share comes back.
    for (const [i, h] of held.entries())
      if (i % 2 === 0) h.finish();
      else h.abort();
    const answers = await Promise.all(held.map((h) => h.answered));
    // Every held one that was finished is stored (which four were refused depends on arrival order).
    const finishedHeld = answers.filter((_, i) => i % 2 === 0 && states[i] === 'pending');
    expect(finishedHeld.length).toBeGreaterThan(0);
    expect(finishedHeld).toEqual(Array(finishedHeld.length).fill(200));
    const after = await postBatch<IngestResponse>(server, bomb('share-after'), {
      key: 'test-key',
      headers: { 'content-encoding': 'gzip' },
    });
    expect(after.status).toBe(200);
    expect(after.body.counts.stored).toBe(300);
    const stored = (await storedItems(server)).map((row) => row.id);
    expect(stored.filter((id) => id.startsWith('share-late'))).toEqual([]);
    expect(stored.filter((id) => id.startsWith('share-1-'))).toEqual([]);
  });

  it('answers 503 UNAVAILABLE with Retry-After once every source together holds the whole budget', async ({
    server,
  }) => {
    const held = ['test-key', 'other-key'].flatMap((key) =>
      Array.from({ length: 8 }, (_, i) => holdOpen(server, key, bomb(`all-${key}-${i}`))),
    );
    const states = await Promise.all(held.map((h) => settle(h, 1500)));
    expect(states.every((s) => s === 'pending')).toBe(true);

    const third = await postBatch<ErrorBody>(server, bomb('all-third'), {
      key: 'third-key',
      headers: { 'content-encoding': 'gzip' },
    });
    expect(third.status).toBe(503);
    expect(third.body.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(parseRetryAfter(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1000);

    for (const h of held) h.abort();
    await Promise.all(held.map((h) => h.answered));
    const again = await postBatch<IngestResponse>(server, bomb('all-third-again'), {
      key: 'third-key',
      headers: { 'content-encoding': 'gzip' },
    });
    expect(again.status).toBe(200);
    expect((await storedItems(server, 'third')).map((row) => row.id)).toHaveLength(300);
  });

  it('gives back what bodies answered before they were read hold (413 on their Content-Length): no source is locked out', async ({
    server,
  }) => {
    // Each declares and sends 1 MiB, past MAX_BATCH_BYTES: answered 413 at once while its bytes still
    // arrive. Together they send far more than the source's 2 MiB share.
    const body = Buffer.alloc(1024 * KiB, 0x20);
    for (let i = 0; i < 12; i += 1) {
      const refused = await postBatch<ErrorBody>(server, body, { key: 'other-key' });
      expect(refused.status).toBe(413);
    }
    const held = Array.from({ length: 8 }, (_, i) => holdOpen(server, 'other-key', bomb(`leak-${i}`)));
    // The whole share is free again: eight bodies of ~250 KiB are held at once, none refused.
    const states = await Promise.all(held.map((h) => settle(h, 1500)));
    expect(states.every((state) => state === 'pending')).toBe(true);
    for (const h of held) h.finish();
    expect(await Promise.all(held.map((h) => h.answered))).toEqual(Array(8).fill(200));
  });
});
