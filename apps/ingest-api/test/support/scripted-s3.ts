import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3ObjectStore } from '../../src/object-store/s3-object-store.js';

/** An S3 endpoint whose every answer a test writes, and an S3 object store pointed at it. */
export interface ScriptedS3 {
  readonly store: S3ObjectStore;
  /** Closes the store, then the endpoint and its connections. */
  close(): Promise<void>;
}

/**
 * Starts an HTTP endpoint that answers each S3 request with `handle` (bucket `bucket`, path-style), and an
 * {@link S3ObjectStore} on it that tries each request once (`maxAttempts` 1) unless told otherwise.
 */
export async function startScriptedS3(
  handle: (request: IncomingMessage, response: ServerResponse) => void,
  options: { readonly bucket?: string; readonly maxAttempts?: number } = {},
): Promise<ScriptedS3> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const store = new S3ObjectStore({
    bucket: options.bucket ?? 'b',
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: 'k',
    secretAccessKey: 's',
    forcePathStyle: true,
    requestTimeoutMs: 5_000,
    maxAttempts: options.maxAttempts ?? 1,
  });
  return {
    store,
    close: async () => {
      await store.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
