// A worker process for the crash test: it claims blobs and hangs in the upload until it is killed.
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { S3ObjectStore } from '../src/object-store/s3-object-store.js';
import { BlobWorker } from '../src/worker/blob-worker.js';

const env = process.env;
const config = loadConfig({
  HOST: '127.0.0.1',
  API_KEYS: 'test:test-key',
  DATABASE_URL: env.CHILD_DATABASE_URL,
});
const db = await createDatabase(config.db);
const worker = new BlobWorker({
  db,
  objectStore: new S3ObjectStore({
    bucket: 'sluice-test',
    endpoint: env.CHILD_S3_ENDPOINT,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
    requestTimeoutMs: 120_000,
  }),
  workerId: env.CHILD_WORKER_ID,
  leaseMs: Number(env.CHILD_LEASE_MS),
  concurrency: 8,
  pollIntervalMs: 20,
});
worker.start();
// The worker's own timers are unref'd; this process must stay up until the test kills it.
setInterval(() => {}, 60_000);
