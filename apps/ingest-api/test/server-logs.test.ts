import { connect, createServer } from 'node:net';
import type { IngestResponse } from '@sluice/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  realPostgresAvailable,
  type TestDatabase,
  testDatabaseUrl,
} from '../src/testing.js';
import { databaseEnv } from './support/cli.js';
import { get, postBatch, record } from './support/http.js';
import { spawnServer, startServerProcess } from './support/server-process.js';

type LogLine = Record<string, unknown> & { level: number; msg: string };

const realPg = await realPostgresAvailable();
// A server started through tsx may take long on a loaded machine (startServerProcess allows 90 s).
const SPAWN_TIMEOUT_MS = 120_000;
const INFO = 30;
const WARN = 40;

/** Every line the process printed, each parsed as JSON (a line that is not JSON fails the test). */
function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

/** Writes `raw` to the server at `url` over a plain TCP connection; what came back before it closed. */
async function rawExchange(url: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.write(raw);
  let answer = '';
  socket.on('data', (chunk: Buffer) => {
    answer += chunk.toString('utf8');
  });
  await new Promise((resolve) => socket.on('close', resolve));
  return answer;
}

/** A TCP port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the server log', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it(
    'on a port already taken: one fatal line, everything it opened closed, exit 1',
    async () => {
      db = await createTestDatabase();
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = taken.address() as { port: number };
        const server = spawnServer({ ...databaseEnv(db), PORT: String(port), ROLE: 'all' });
        expect(await server.exited).toBe(1);
        const fatal = logLines(server.output()).filter((line) => line.level === 60);
        expect(fatal).toHaveLength(1);
        expect(fatal[0]?.msg).toMatch(/^not starting: .*EADDRINUSE/);
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
    },
    SPAWN_TIMEOUT_MS,
  );

  it(
    'says where it listens, writes one line per request (with item counts, or the refusal code and reason) and none for probes at info',
    async () => {
      db = await createTestDatabase();
      const server = await startServerProcess({
        ...databaseEnv(db),
        HOST: '0.0.0.0',
        API_KEYS: 'logs:logs-key-1234',
        ADMIN_KEY: 'logs-admin-key-1234',
        LOG_LEVEL: 'info',
      });
      try {
        const port = new URL(server.url).port;
        const listening = logLines(server.output()).filter((line) => /listening on/.test(line.msg));
        expect(listening).toEqual([expect.objectContaining({ level: INFO, url: `http://0.0.0.0:${port}` })]);
        expect(listening[0]?.msg).toContain(`listening on http://0.0.0.0:${port}`);

        const client = { url: server.url, apiKey: 'logs-key-1234', source: 'logs', query: async () => [] };
        for (const probe of ['/healthz', '/readyz', '/metrics'])
          expect((await get(client, probe, null)).status).toBe(200);
        const stored = await postBatch<IngestResponse>(client, {
          items: [record('log-1'), record('log-1'), record('bad id')],
        });
        expect(stored.body.counts).toMatchObject({ stored: 1, duplicate: 1, rejected: 1 });
        expect(
          (await postBatch(client, { items: [record('log-2')] }, { key: 'wrong-key-1234' })).status,
        ).toBe(401);
        expect((await get(client, '/v1/limits')).status).toBe(200);
        // What the HTTP parser refuses never becomes a request; it is still answered and logged.
        for (const raw of ['NOT HTTP AT ALL\r\n\r\n', `GET / HTTP/1.1\r\nx: ${'h'.repeat(20_000)}\r\n\r\n`]) {
          expect(await rawExchange(server.url, raw)).toMatch(/^HTTP\/1\.1 400 /);
        }
        await expect
          .poll(() => logLines(server.output()).filter((line) => line.status === 400 && !line.reqId).length)
          .toBe(2);
        expect(logLines(server.output()).filter((line) => line.status === 400 && !line.reqId)).toEqual([
          expect.objectContaining({ level: INFO, code: 'INVALID_REQUEST', reason: 'malformed HTTP request' }),
          expect.objectContaining({
            level: INFO,
            code: 'INVALID_REQUEST',
            reason: 'the request headers are too large',
          }),
        ]);

        // The line is written once the answer is sent: wait for the last request's.
        await expect
          .poll(() => logLines(server.output()).some((line) => line.url === '/v1/limits'))
          .toBe(true);
        const lines = logLines(server.output());
        const requestLines = lines.filter((line) => line.reqId !== undefined);

        const batches = requestLines.filter((line) => line.url === '/v1/batch' && line.status === 200);
        expect(batches).toEqual([
          expect.objectContaining({
            level: INFO,
            method: 'POST',
            source: 'logs',
            items: 3,
            stored: 1,
            duplicate: 1,
            conflict: 0,
            rejected: 1,
            retry: 0,
          }),
        ]);
        expect(requestLines.filter((line) => line.reqId === batches[0]?.reqId)).toHaveLength(1);

        const refused = requestLines.filter((line) => line.status === 401);
        expect(refused).toEqual([
          expect.objectContaining({
            level: INFO,
            url: '/v1/batch',
            code: 'UNAUTHORIZED',
            reason: expect.stringMatching(/unknown, disabled or revoked API key/),
          }),
        ]);
        expect(refused[0]?.msg).toContain('401 UNAUTHORIZED');

        const probes = ['/healthz', '/readyz', '/metrics'];
        expect(lines.filter((line) => probes.includes(String(line.url)))).toEqual([]);
        // Fastify's own request lines are replaced, not doubled.
        expect(lines.filter((line) => /incoming request|request completed/.test(line.msg))).toEqual([]);
        // Exactly the requests that are not probes, one line each.
        expect(requestLines.map((line) => `${line.method} ${line.url} ${line.status}`)).toEqual([
          'POST /v1/batch 200',
          'POST /v1/batch 401',
          'GET /v1/limits 200',
        ]);
      } finally {
        server.child.kill('SIGTERM');
        expect(await server.exited).toBe(0);
      }
    },
    SPAWN_TIMEOUT_MS,
  );

  it(
    'retries an unreachable database with one line per retry, then exits 1 with a one-line error and no stack',
    async () => {
      const port = await closedPort();
      const server = spawnServer({
        DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/sluice`,
        DB_CONNECT_RETRY_MS: '3000',
        API_KEYS: 'logs:logs-key-1234',
      });
      expect(await server.exited).toBe(1);
      const lines = logLines(server.output());
      const retries = lines.filter((line) => line.level === WARN);
      expect(retries.length).toBeGreaterThanOrEqual(2);
      retries.forEach((line, index) => {
        expect(line).toMatchObject({ attempt: index + 1, database: `127.0.0.1:${port}` });
        expect(line.reason).toMatch(/ECONNREFUSED/);
        expect(line.retryInMs).toBeGreaterThan(0);
      });
      const last = lines.at(-1);
      expect(last?.level).toBe(60);
      expect(last?.msg).toMatch(
        new RegExp(
          `^not starting: database unreachable after ${retries.length + 1} attempts in .* s: .*ECONNREFUSED`,
        ),
      );
      expect(lines).toHaveLength(retries.length + 1);
      expect(server.output()).not.toMatch(/\n\s+at /);
    },
    SPAWN_TIMEOUT_MS,
  );

  it.skipIf(!realPg)(
    'exits 1 at once with a one-line error naming the server when the database does not exist',
    async () => {
      const url = new URL(testDatabaseUrl());
      url.pathname = '/sluice_no_such_database';
      const server = spawnServer({ DATABASE_URL: url.toString(), API_KEYS: 'logs:logs-key-1234' });
      expect(await server.exited).toBe(1);
      const lines = logLines(server.output());
      expect(lines).toEqual([expect.objectContaining({ level: 60 })]);
      expect(lines[0]?.msg).toMatch(
        /^not starting: .*:\d+ refused the connection \(3D000\): .*sluice_no_such_database/,
      );
    },
    SPAWN_TIMEOUT_MS,
  );
});
