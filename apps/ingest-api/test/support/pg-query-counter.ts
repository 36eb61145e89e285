import { connect, createServer, type Socket } from 'node:net';

/** A TCP proxy in front of PostgreSQL that counts the queries clients send through it. */
export interface PgQueryCounter {
  /** `url` with host and port replaced by the proxy's. */
  readonly url: string;
  /** Queries sent so far: simple-protocol `Query` messages plus extended-protocol `Sync`s (one per statement). */
  queries(): number;
  close(): Promise<void>;
}

/**
 * Counts at the wire, independent of the application: after the startup message every frontend message
 * is a type byte and an int32 length, so the stream can be split without understanding the rest.
 */
export async function startPgQueryCounter(url: string): Promise<PgQueryCounter> {
  const target = new URL(url);
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (!started) {
          if (pending.length < 8) break;
          const length = pending.readInt32BE(0);
          if (pending.length < length) break;
          // SSLRequest / GSSENCRequest are followed by another startup message.
          const code = pending.readInt32BE(4);
          if (code !== 80_877_103 && code !== 80_877_104) started = true;
          pending = pending.subarray(length);
          continue;
        }
        if (pending.length < 5) break;
        const length = pending.readInt32BE(1);
        if (pending.length < 1 + length) break;
        const type = String.fromCharCode(pending[0] ?? 0);
        if (type === 'Q' || type === 'S') count += 1;
        pending = pending.subarray(1 + length);
      }
    });
    const cleanup = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', cleanup).on('close', cleanup);
    upstream.on('error', cleanup).on('close', cleanup);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = address !== null && typeof address === 'object' ? address.port : 0;
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(port);
  return {
    url: proxied.toString(),
    queries: () => count,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
