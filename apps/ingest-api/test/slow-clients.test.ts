import { connect, type Socket } from 'node:net';
import { makeBlob, multipartBody, partsFor, rowCounts } from './blob-support.js';
import { describe, expect, it } from './support/fixtures.js';

const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_500;
const KEEP_ALIVE_TIMEOUT_MS = 1_000;
// Node checks the deadlines every HEADERS_TIMEOUT_MS / 4 here; the rest is scheduling on a busy machine.
const SLACK_MS = 1_000;

/** A raw connection that records what the server sent and when it closed. */
class Client {
  readonly socket: Socket;
  readonly opened = Date.now();
  received = '';
  readonly closed: Promise<number>;

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = connect(Number(port), hostname);
    this.socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('latin1');
    });
    this.closed = new Promise((resolve) => {
      this.socket.on('close', () => resolve(Date.now() - this.opened));
      this.socket.on('error', () => {});
    });
  }

  /** Writes `bytes` one at a time, every `everyMs`, until the server closes the connection. */
  trickle(bytes: string, everyMs: number): void {
    let next = 0;
    const timer = setInterval(() => {
      if (this.socket.destroyed || next >= bytes.length) {
        clearInterval(timer);
        return;
      }
      this.socket.write(bytes[next++] ?? '');
    }, everyMs);
    this.socket.on('close', () => clearInterval(timer));
  }

  /** Milliseconds until the server closed the connection, or `undefined` if it is open after `limitMs`. */
  async closedWithin(limitMs: number): Promise<number | undefined> {
    const open = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), limitMs));
    const result = await Promise.race([this.closed, open]);
    this.socket.destroy();
    return result;
  }
}

it.override({
  serverOverrides: {
    http: {
      headersTimeoutMs: HEADERS_TIMEOUT_MS,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      connectionTimeoutMs: 20_000,
      keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
    },
  },
});

describe('slow and refused senders are cut off', () => {
  function head(path: string, contentType: string, length: number, key: string): string {
    return (
      `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n` +
      `Content-Type: ${contentType}\r\nContent-Length: ${length}\r\n\r\n`
    );
  }

  it('closes a batch whose body trickles in a byte a second once REQUEST_TIMEOUT_MS passes, writing nothing', async ({
    server,
  }) => {
    const before = await rowCounts(server);
    const body = JSON.stringify({ items: [{ id: 'slow-1', type: 't', ts: 1, data: 'x'.repeat(50) }] });
    const client = new Client(server.url);
    client.socket.write(head('/v1/batch', 'application/json', body.length, server.apiKey));
    client.trickle(body, 1_000);
    const closedAfter = await client.closedWithin(REQUEST_TIMEOUT_MS + SLACK_MS + 2_000);
    expect(closedAfter).toBeDefined();
    expect(closedAfter).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(closedAfter).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS + SLACK_MS);
    // Cut off without an answer: the contract has no code for it.
    expect(client.received).toBe('');
    expect(await rowCounts(server)).toEqual(before);
  });

  it('closes a blob upload that trickles in once REQUEST_TIMEOUT_MS passes, writing nothing', async ({
    server,
  }) => {
    const before = await rowCounts(server);
    const { body, contentType } = multipartBody(partsFor([makeBlob({ size: 64 })]));
    const client = new Client(server.url);
    const text = body.toString('latin1');
    // The manifest and the part's headers arrive at once; the blob's bytes trickle.
    const split = text.indexOf('application/octet-stream') + 40;
    client.socket.write(head('/v1/blobs', contentType, body.length, server.apiKey) + text.slice(0, split));
    client.trickle(text.slice(split), 1_000);
    const closedAfter = await client.closedWithin(REQUEST_TIMEOUT_MS + SLACK_MS + 2_000);
    expect(closedAfter).toBeDefined();
    expect(closedAfter).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS + SLACK_MS);
    expect(await rowCounts(server)).toEqual(before);
  });

  it('closes a connection whose headers trickle in once HEADERS_TIMEOUT_MS passes', async ({ server }) => {
    const client = new Client(server.url);
    client.socket.write('GET /healthz HTTP/1.1\r\n');
    client.trickle(`X-Slow: ${'a'.repeat(100)}\r\n\r\n`, 100);
    const closedAfter = await client.closedWithin(HEADERS_TIMEOUT_MS + SLACK_MS + 2_000);
    expect(closedAfter).toBeDefined();
    expect(closedAfter).toBeLessThanOrEqual(HEADERS_TIMEOUT_MS + SLACK_MS);
  });

  it('closes an idle keep-alive connection after KEEP_ALIVE_TIMEOUT_MS', async ({ server }) => {
    const client = new Client(server.url);
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const closedAfter = await client.closedWithin(KEEP_ALIVE_TIMEOUT_MS + SLACK_MS + 3_000);
    expect(client.received).toMatch(/^HTTP\/1\.1 200/);
    expect(closedAfter).toBeDefined();
    expect(closedAfter).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS);
    // Node keeps the socket one second past keepAliveTimeout (its keep-alive timeout buffer).
    expect(closedAfter).toBeLessThanOrEqual(KEEP_ALIVE_TIMEOUT_MS + 1_000 + SLACK_MS);
  });

  it('answers an unauthenticated request at once and closes it, however slowly its body comes', async ({
    server,
  }) => {
    const before = await rowCounts(server);
    const client = new Client(server.url);
    client.socket.write(head('/v1/batch', 'application/json', 1_000, 'not-a-key'));
    client.trickle(' '.repeat(1_000), 100);
    const closedAfter = await client.closedWithin(REQUEST_TIMEOUT_MS);
    expect(client.received).toMatch(/^HTTP\/1\.1 401/);
    expect(client.received.toLowerCase()).toContain('connection: close');
    expect(closedAfter).toBeDefined();
    expect(closedAfter).toBeLessThan(1_000);
    expect(await rowCounts(server)).toEqual(before);
  });
});
