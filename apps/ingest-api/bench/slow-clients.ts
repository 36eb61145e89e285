/**
 * Slow-body (slowloris) measurement on loopback: CONNECTIONS clients per kind send their headers,
 * then one body byte a second. Kinds: a batch and a blob upload with a valid key, and a batch with
 * an unknown key. Prints, every half second, how many connections each kind still holds open
 * and how many the server counts, then when each was cut and what it was answered. Asserts nothing.
 *
 *   pnpm --filter @sluice/ingest-api exec tsx bench/slow-clients.ts [connections] [requestTimeoutMs] [seconds]
 *
 * Defaults: 100 connections per kind, REQUEST_TIMEOUT_MS 5000, 10 s. TEST_DATABASE_URL picks the
 * PostgreSQL server. Pass a requestTimeoutMs longer than the run to see connections held throughout.
 */
import { connect, type Socket } from 'node:net';
import { startTestServer } from '../src/testing.js';
import { makeBlob, multipartBody, partsFor, rowCounts } from '../test/blob-support.js';

const [connections = 100, requestTimeoutMs = 5000, seconds = 10] = process.argv.slice(2, 5).map(Number);

const server = await startTestServer({
  logLevel: 'error',
  http: { requestTimeoutMs, headersTimeoutMs: Math.min(10_000, requestTimeoutMs) },
  rateLimit: { rps: 1_000_000, burst: 1_000_000 },
});
const { port } = new URL(server.url);

interface Slow {
  readonly kind: string;
  readonly socket: Socket;
  closedAfterMs: number | undefined;
  answer: string;
}

const KINDS = ['batch', 'blobs', 'unauthenticated'] as const;
const blob = multipartBody(partsFor([makeBlob({ size: 4096 })]));

function open(kind: (typeof KINDS)[number], startedAt: number): Slow {
  const socket = connect(Number(port), '127.0.0.1');
  const slow: Slow = { kind, socket, closedAfterMs: undefined, answer: '' };
  const key = kind === 'unauthenticated' ? 'not-a-key' : server.apiKey;
  const [path, type, body] =
    kind === 'blobs'
      ? ['/v1/blobs', blob.contentType, blob.body.toString('latin1')]
      : [
          '/v1/batch',
          'application/json',
          JSON.stringify({ items: [{ id: 'x', type: 't', ts: 1, data: 'y'.repeat(2000) }] }),
        ];
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  let sent = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(body[sent++] ?? ' ');
  }, 1000);
  socket.on('data', (chunk: Buffer) => {
    if (slow.answer === '') slow.answer = chunk.toString('latin1').split('\r\n')[0] ?? '';
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    clearInterval(timer);
    slow.closedAfterMs = performance.now() - startedAt;
  });
  return slow;
}

const before = await rowCounts(server);
const startedAt = performance.now();
const clients = KINDS.flatMap((kind) => Array.from({ length: connections }, () => open(kind, startedAt)));
console.log(
  `${connections} connections per kind, REQUEST_TIMEOUT_MS=${requestTimeoutMs}, one body byte a second, ${seconds} s`,
);
console.log(`   t(s)  ${KINDS.map((kind) => kind.padStart(16)).join('')}  server connections`);
for (let tick = 0; tick <= seconds * 2; tick++) {
  const held = KINDS.map(
    (kind) => clients.filter((c) => c.kind === kind && c.closedAfterMs === undefined).length,
  );
  const serverHeld = await new Promise<number>((resolve) =>
    server.app.server.getConnections((_error, count) => resolve(count)),
  );
  console.log(
    `${(tick / 2).toFixed(1).padStart(7)}  ${held.map((n) => String(n).padStart(16)).join('')}  ${String(serverHeld).padStart(18)}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
}
for (const kind of KINDS) {
  const mine = clients.filter((c) => c.kind === kind);
  const cut = mine
    .flatMap((c) => (c.closedAfterMs === undefined ? [] : [c.closedAfterMs]))
    .sort((a, b) => a - b);
  const answers = [...new Set(mine.map((c) => c.answer || '(no answer)'))].join(', ');
  const at = (q: number) =>
    cut.length === 0
      ? '-'
      : `${(cut[Math.min(cut.length - 1, Math.floor(q * cut.length))]! / 1000).toFixed(2)} s`;
  console.log(
    `${kind}: ${cut.length}/${mine.length} cut; after min ${at(0)}, median ${at(0.5)}, max ${at(1)}; answered: ${answers}`,
  );
}
for (const client of clients) client.socket.destroy();
const after = await rowCounts(server);
console.log(
  `rows written: items ${after.items - before.items}, blobs ${after.blobs - before.blobs}, staged ${after.staged - before.staged}`,
);
await server.close();
