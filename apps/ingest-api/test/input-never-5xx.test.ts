import { connect } from 'node:net';
import { ErrorBodySchema, type IngestResponse, itemPath, REQUEST_ERRORS } from '@sluice/contracts';
import Fastify from 'fastify';
import postgres from 'postgres';
import { beginStoring, installErrorHandlers } from '../src/error-handler.js';
import { ServerFault } from '../src/errors.js';
import { metricsPlugin } from '../src/plugins/metrics.js';
import { realPostgresAvailable, type TestServer, testDatabaseUrl } from '../src/testing.js';
import { test as base, describe, expect } from './support/fixtures.js';
import { get, postBatch, record } from './support/http.js';

type Code = keyof typeof REQUEST_ERRORS;

function expectError(response: { status: number; body: unknown }, code: Code): void {
  expect(response.status).toBe(REQUEST_ERRORS[code].status);
  expect(ErrorBodySchema.parse(response.body).error).toMatchObject({
    code,
    retryable: REQUEST_ERRORS[code].retryable,
  });
}

/** Writes `text` on a fresh connection and reads the answer until the server closes it. */
async function rawRequest(url: string, text: string): Promise<{ status: number; body: unknown }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(text);
  await new Promise<void>((resolve) => {
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
  const answer = Buffer.concat(chunks).toString('utf8');
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), body: JSON.parse(body) };
}

const realPg = await realPostgresAvailable();

/**
 * `handlers`: a bare Fastify app with the error handlers and routes that throw what routes can throw, on
 * 127.0.0.1; its database refusals come from a real PostgreSQL connection when there is one.
 */
// biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; it has none.
const it = base.extend('handlers', { scope: 'file' }, async ({}, { onCleanup }) => {
  const sql = realPg ? postgres(testDatabaseUrl(), { max: 1, onnotice: () => {} }) : undefined;
  const app = Fastify({ logger: false });
  onCleanup(async () => {
    await app.close();
    await sql?.end({ timeout: 5 });
  });
  await app.register(metricsPlugin);
  installErrorHandlers(app);
  app.post('/while-reading', async () => {
    throw new RangeError('Maximum call stack size exceeded');
  });
  app.post('/while-storing', async (request) => {
    beginStoring(request);
    throw new TypeError("Cannot read properties of undefined (reading 'id')");
  });
  app.post('/disk-fault', async () => {
    throw new ServerFault('could not spool', { cause: Object.assign(new Error('EIO'), { code: 'EIO' }) });
  });
  app.post('/database-refuses-value', async (request) => {
    beginStoring(request);
    // A real refusal: PostgreSQL cannot hold U+0000 in text (SQLSTATE 22021).
    await sql?.unsafe('select $1::text', ['a\u0000b']);
    return 'unreachable';
  });
  app.post('/database-fault', async () => {
    await sql?.unsafe('select * from a_table_that_does_not_exist');
    return 'unreachable';
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    async post(path: string): Promise<{ status: number; body: unknown }> {
      const response = await fetch(`${url}${path}`, { method: 'POST' });
      return { status: response.status, body: await response.json() };
    },
  };
});

describe('input that reaches a route, the router or the HTTP parser never gets a 5xx', () => {
  it('answers GET /v1/items/:id with an id PostgreSQL cannot hold (NUL) as 404, not 500', async ({
    server,
  }) => {
    for (const id of ['%00', 'a%00b', `${'x'.repeat(40)}%00`]) {
      expectError(await get(server, `/v1/items/${id}`), 'NOT_FOUND');
    }
    expectError(await get(server, '/v1/items/has%20space'), 'NOT_FOUND');
  });

  it('finds items whose ids are 101 to 128 characters long, also when ":" travels percent-encoded', async ({
    server,
  }) => {
    const long = 'x'.repeat(128);
    const colons = `${':'.repeat(64)}${'y'.repeat(64)}`;
    const stored = await postBatch<IngestResponse>(server, { items: [record(long), record(colons)] });
    expect(stored.body.counts.stored).toBe(2);
    for (const id of [long, colons]) {
      const found = await get<{ id: string }>(server, itemPath(id));
      expect(found.status).toBe(200);
      expect(found.body.id).toBe(id);
    }
    // Longer than any id: the router refuses it, in the contract's shape.
    expectError(await get(server, `/v1/items/${'z'.repeat(400)}`), 'INVALID_BATCH');
  });

  it('answers a URL that is not valid percent-encoded UTF-8 with 400 in the contract shape', async ({
    server,
  }) => {
    for (const path of ['/v1/items/%ED%A0%80', '/v1/items/%C0', '/v1/items/%E2%82']) {
      expectError(await get(server, path), 'INVALID_BATCH');
    }
  });

  it('answers requests the HTTP parser refuses with 400 INVALID_REQUEST in the contract shape: not INVALID_BATCH, which clients dead-letter', async ({
    server,
  }) => {
    const malformed = [
      'GARBAGE\r\n\r\n',
      `POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}`,
      `POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n`,
    ];
    for (const text of malformed) expectError(await rawRequest(server.url, text), 'INVALID_REQUEST');
  });
});

describe('the error handler: an unexpected error is the input’s fault (400) until the route begins to store', () => {
  it('answers an error raised while the input is read and checked with 400 INVALID_BATCH', async ({
    handlers: { post },
  }) => {
    expectError(await post('/while-reading'), 'INVALID_BATCH');
  });

  it('answers an unexpected error once storing began with 500 INTERNAL, without internals', async ({
    handlers: { post },
  }) => {
    const answer = await post('/while-storing');
    expectError(answer, 'INTERNAL');
    expect(JSON.stringify(answer.body)).not.toMatch(/Cannot read/);
  });

  it('answers a fault of the server’s own disk with 500 even while reading input', async ({
    handlers: { post },
  }) => {
    expectError(await post('/disk-fault'), 'INTERNAL');
  });

  it.skipIf(!realPg)(
    'answers a value PostgreSQL refuses (SQLSTATE class 22) with 400, other SQL errors with 500',
    async ({ handlers: { post } }) => {
      expectError(await post('/database-refuses-value'), 'INVALID_BATCH');
      expectError(await post('/database-fault'), 'INTERNAL');
    },
  );
});

describe('a client that goes away mid-body', () => {
  async function unavailableCount(server: TestServer): Promise<number> {
    const metrics = await get<string>(server, '/metrics', null);
    const match = /sluice_db_errors_total\{reason="unavailable"\} (\d+)/.exec(metrics.body);
    return Number(match?.[1] ?? 0);
  }

  it('is not counted as the database being unavailable, and writes nothing', async ({ startServer }) => {
    // A server of its own: nothing written by the other tests, no unavailable count but its own.
    const server = await startServer();
    const before = await unavailableCount(server);
    for (const path of ['/v1/batch', '/v1/blobs']) {
      const { hostname, port } = new URL(server.url);
      const socket = connect(Number(port), hostname);
      const type = path === '/v1/batch' ? 'application/json' : 'multipart/form-data; boundary=b';
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.apiKey}\r\n` +
          `Content-Type: ${type}\r\nContent-Length: 100000\r\n\r\n`,
      );
      socket.write(
        path === '/v1/batch'
          ? '{"items":['
          : '--b\r\nContent-Disposition: form-data; name="manifest"\r\n\r\n{',
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      socket.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await unavailableCount(server)).toBe(before);
    expect(await server.query('select id from items')).toEqual([]);
  });
});
