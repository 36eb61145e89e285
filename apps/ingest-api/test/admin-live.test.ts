import { realPostgresAvailable, TEST_ADMIN_KEY } from '../src/testing.js';
import { admin } from './support/admin.js';
import { openEventStream } from './support/event-stream.js';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record } from './support/http.js';

const realPg = await realPostgresAvailable();

describe('the live stream', () => {
  it('streams an item stored by POST /v1/batch as an `item` event', async ({ server }) => {
    const stream = await openEventStream(server.url, TEST_ADMIN_KEY);
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      await postBatch(server, { items: [record('live-1', { a: 1 }, 'tap')] });
      await stream.until((events) => events.some((event) => event.id === 'live-1'));
      expect(stream.events.find((event) => event.id === 'live-1')).toEqual({
        source: 'test',
        id: 'live-1',
        kind: 'record',
        type: 'tap',
        status: 'stored',
        size: '{"a":1}'.length,
        receivedAt: expect.any(Number),
        skipped: 0,
      });
    } finally {
      stream.close();
    }
  });

  it('samples a burst: fewer events than items, and the skipped counts add up to every item', async ({
    server,
  }) => {
    const stream = await openEventStream(server.url, TEST_ADMIN_KEY);
    try {
      let sent = 0;
      for (let batch = 0; batch < 4; batch++) {
        const ids = Array.from({ length: 500 }, (_, i) => `burst-${batch}-${i}`);
        expect((await postBatch(server, { items: ids.map((id) => record(id)) })).status).toBe(200);
        sent += ids.length;
      }
      // Once the rate allows again, one more item carries the count of everything left out before it.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await postBatch(server, { items: [record('burst-last')] });
      sent += 1;
      await stream.until((events) => events.some((event) => event.id === 'burst-last'));
      const burst = stream.events.filter((event) => event.id.startsWith('burst-'));
      expect(burst.length).toBeLessThan(100);
      expect(burst.reduce((sum, event) => sum + 1 + event.skipped, 0)).toBe(sent);
    } finally {
      stream.close();
    }
  });

  it('sends heartbeat comments and lets go of a stream whose client went away', async ({ startApp }) => {
    const app = await startApp({ admin: { liveHeartbeatMs: 50 } });
    const stream = await openEventStream(app.url, TEST_ADMIN_KEY);
    await stream.until(() => stream.comments.filter((comment) => comment === 'heartbeat').length >= 2);
    expect(app.app.storedItems.live.subscribers).toBe(1);
    stream.close();
    await expect.poll(() => app.app.storedItems.live.subscribers).toBe(0);
    // The embedded database takes one app at a time.
    await app.close();
  });

  it('needs the admin key', async ({ server }) => {
    for (const key of [null, 'wrong-key', server.apiKey]) {
      const answer = await admin(server.url, '/admin/v1/live', { key });
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    }
    expect((await admin(server.url, '/admin/v1/live?x=1')).status).toBe(400);
  });

  it('ends open streams when the app closes, so closing does not wait for them', async ({ startApp }) => {
    const app = await startApp();
    const streams = await Promise.all([1, 2].map(() => openEventStream(app.url, TEST_ADMIN_KEY)));
    await streams[0]?.until(() => true);
    await app.close();
    await Promise.all(streams.map((stream) => stream.ended));
  }, 15_000);

  it.skipIf(!realPg)(
    'shows items stored by another API process on the same database',
    async ({ startApp }) => {
      const [watched, other] = [await startApp(), await startApp()];
      const stream = await openEventStream(watched.url, TEST_ADMIN_KEY);
      try {
        await postBatch(other, { items: [record('elsewhere-1')] });
        await stream.until((events) => events.some((event) => event.id === 'elsewhere-1'));
        // Each event arrives once, however many processes listen.
        await postBatch(watched, { items: [record('here-1')] });
        await stream.until((events) => events.some((event) => event.id === 'here-1'));
        expect(stream.events.filter((event) => event.id === 'elsewhere-1')).toHaveLength(1);
      } finally {
        stream.close();
      }
    },
  );
});
