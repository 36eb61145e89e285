// An HTTP server for client benchmarks, shared by the SDK's uploader bench and the SDK-against-peers bench.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { gunzip } from 'node:zlib';

export async function startJsonServer(limits, answer) {
  const limitsBody = JSON.stringify(limits);
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const send = (status, body) => {
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        response.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        });
        response.end(text);
      };
      if (request.method === 'GET' && request.url === '/v1/limits') return send(200, limitsBody);
      if (request.method !== 'POST') return send(404, '{}');
      const reply = (raw) => {
        let parsed;
        try {
          parsed = JSON.parse(raw.toString('utf8'));
        } catch {
          return send(400, '{}');
        }
        const [status, body] = answer(request.url ?? '', parsed);
        send(status, body);
      };
      const raw = Buffer.concat(chunks);
      if (request.headers['content-encoding'] !== 'gzip') return reply(raw);
      gunzip(raw, (error, body) => (error ? send(400, '{}') : reply(body)));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function allStored(items) {
  const results = items.map(({ id }) => ({ id, status: 'stored' }));
  return { results, counts: { stored: results.length, duplicate: 0, conflict: 0, rejected: 0, retry: 0 } };
}

/**
 * A server answering every `POST /v1/batch` item `stored` (and `GET /v1/limits` with `limits`), in a process
 * of its own: a client benchmark then measures the client, not the client and the server on one thread.
 */
export async function startStoredServerProcess(limits) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--stored', JSON.stringify(limits)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  // Not left running if the bench dies without closing it.
  const stop = () => child.kill();
  process.once('exit', stop);
  child.once('exit', () => process.off('exit', stop));
  const url = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the stored server exited ${code} before listening`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--stored') {
  const limits = JSON.parse(process.argv[3]);
  const server = await startJsonServer(limits, (path, body) =>
    path === '/v1/batch' && Array.isArray(body?.items) ? [200, allStored(body.items)] : [404, {}],
  );
  console.log(server.url);
}
