import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** s3rver in this process: stopped and started again on the same port with the same directory. */
export interface ChaosObjectStore {
  readonly endpoint: string;
  readonly bucket: string;
  /** The `S3_*` variables the API processes get. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SHA-256 hex of an object's bytes, or undefined when there is no such object. */
  sha256Of(key: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function startObjectStore(
  directory: string,
  bucket = 'sluice-chaos',
): Promise<ChaosObjectStore> {
  await mkdir(directory, { recursive: true });
  let server: S3rver | undefined;
  let port = 0;
  const start = async (): Promise<void> => {
    if (server !== undefined) return;
    const instance = new S3rver({
      address: '127.0.0.1',
      port,
      silent: true,
      directory,
      configureBuckets: [{ name: bucket }],
    });
    port = (await instance.run()).port;
    server = instance;
  };
  const stop = async (): Promise<void> => {
    const instance = server;
    server = undefined;
    if (instance === undefined) return;
    const closed = instance.close();
    instance.httpServer?.closeAllConnections();
    await closed;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver ignores the checksums newer SDKs send by default; only ask for them where S3 requires it.
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    bucket,
    env: {
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
      S3_REQUEST_TIMEOUT_MS: '3000',
      S3_CONNECT_TIMEOUT_MS: '1000',
    },
    stop,
    start,
    sha256Of: async (key) => {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = await answer.Body?.transformToByteArray();
        return bytes === undefined ? undefined : createHash('sha256').update(bytes).digest('hex');
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    close: async () => {
      client.destroy();
      await stop();
    },
  };
}
