import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { S3ObjectStoreOptions } from '../../src/object-store/s3-object-store.js';

/** One request the S3 server answered. */
export interface S3Request {
  readonly method: string;
  /** Object key without the bucket, e.g. `blobs/ab/cd/abcd…`. */
  readonly key: string;
  readonly status: number;
}

/** An in-process S3-compatible server (s3rver) on 127.0.0.1 with a request log; stoppable and restartable. */
export interface S3TestServer {
  readonly endpoint: string;
  readonly bucket: string;
  /** Every request answered so far, in order of completion. */
  readonly requests: S3Request[];
  /** The highest number of simultaneous PUTs seen for any one key. */
  maxConcurrentPutsPerKey(): number;
  /** Options for an `S3ObjectStore` talking to this server. */
  storeOptions(overrides?: Partial<S3ObjectStoreOptions>): S3ObjectStoreOptions;
  /** Stops listening and drops open connections; stored objects are kept. */
  stop(): Promise<void>;
  /** Listens again on the same port with the same objects. */
  start(): Promise<void>;
  /** Stops and deletes the stored objects. */
  close(): Promise<void>;
}

/** Starts s3rver on a free port with one bucket, storing objects in a fresh temp directory. */
export async function startS3Server(bucket = 'sluice-test'): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'sluice-s3-'));
  const requests: S3Request[] = [];
  const inFlight = new Map<string, number>();
  let maxConcurrent = 0;
  let server: S3rver | undefined;
  let port = 0;

  const track = (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://s3').pathname);
    const key = path.startsWith(`/${bucket}/`) ? path.slice(bucket.length + 2) : path;
    const method = req.method ?? 'GET';
    if (method === 'PUT') {
      const now = (inFlight.get(key) ?? 0) + 1;
      inFlight.set(key, now);
      maxConcurrent = Math.max(maxConcurrent, now);
    }
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (method === 'PUT') inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      requests.push({ method, key, status: res.statusCode });
    };
    res.on('finish', finish);
    res.on('close', finish);
  };

  const start = async () => {
    const instance = new S3rver({
      address: '127.0.0.1',
      port,
      silent: true,
      directory,
      configureBuckets: [{ name: bucket }],
    });
    const address = await instance.run();
    port = address.port;
    instance.httpServer?.prependListener('request', track);
    server = instance;
  };

  const stop = async () => {
    const instance = server;
    server = undefined;
    if (instance === undefined) return;
    const closed = instance.close();
    instance.httpServer?.closeAllConnections();
    await closed;
  };

  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    requests,
    maxConcurrentPutsPerKey: () => maxConcurrent,
    storeOptions: (overrides) => ({
      bucket,
      endpoint,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
      requestTimeoutMs: 5_000,
      connectionTimeoutMs: 1_000,
      maxAttempts: 1,
      ...overrides,
    }),
    stop,
    start,
    close: async () => {
      await stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
