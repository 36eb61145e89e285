import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An S3 endpoint that answers HEAD with 404 and accepts PUTs it never answers, so an uploader stays
 * stuck mid-upload until it is killed or times out.
 */
export interface S3BlackHole {
  readonly endpoint: string;
  /** PUT requests received so far. */
  puts(): number;
  close(): Promise<void>;
}

export async function startS3BlackHole(): Promise<S3BlackHole> {
  let puts = 0;
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    if (req.method === 'PUT') {
      puts += 1;
      req.resume();
      held.push(res);
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    puts: () => puts,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
