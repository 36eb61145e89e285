// An HTTP server for client benchmarks, shared by the SDK's uploader bench and the SDK-against-peers bench.
import { createServer } from 'node:http';
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
