import { once } from 'node:events';
import { connect } from 'node:net';
import postgres from 'postgres';
import { realPostgresAvailable } from '../src/testing.js';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record } from './support/http.js';

const realPg = await realPostgresAvailable();
if (!realPg)
  console.warn('!!! SKIPPED drain: holding a request in flight needs a table lock on a real PostgreSQL');

describe.skipIf(!realPg)('closing the app (real PostgreSQL)', () => {
  it('finishes the request in flight, closes its socket, and never runs a request sent after closing began', async ({
    server,
  }) => {
    expect((await postBatch(server, { items: [record('warm')] })).status).toBe(200);
    const locker = postgres(server.db.url ?? '', { max: 1, onnotice: () => {} });
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    const socketClosed = once(socket, 'close');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
    });
    const request = (id: string) => {
      const body = JSON.stringify({ items: [record(id)] });
      return (
        'POST /v1/batch HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer test-key\r\n' +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
      );
    };
    try {
      const reserved = await locker.reserve();
      await reserved`begin`;
      await reserved`lock table items in exclusive mode`;
      socket.write(request('in-flight'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const closing = server.app.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.write(request('late'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await reserved`rollback`;
      reserved.release();
      await closing;
      await socketClosed;

      // One answer: the in-flight batch, stored, telling the client to drop the socket. The late
      // request got no answer at all, so its client resends it elsewhere; it wrote nothing.
      const responses = received.split(/(?=HTTP\/1\.1 )/);
      expect(responses).toHaveLength(1);
      expect(responses[0]).toMatch(/^HTTP\/1\.1 200/);
      expect(responses[0]).toMatch(/connection: close/i);
      expect(responses[0]).toContain('"status":"stored"');
      const rows = await locker<{ id: string }[]>`select id from items order by id`;
      expect(rows.map((row) => row.id)).toEqual(['in-flight', 'warm']);
    } finally {
      socket.destroy();
      await locker.end({ timeout: 5 });
    }
  });
});
