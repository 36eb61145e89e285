// Blob pipeline throughput: POST /v1/blobs from concurrent clients, then the worker draining the
// backlog into an in-process S3-compatible server. Prints numbers; asserts nothing.
// Run: pnpm --filter @sluice/ingest-api exec tsx bench/blobs.ts [seconds] [blobKiB] [blobsPerRequest] [clients] [s3|local]
import { join } from 'node:path';
import { reportFigure } from '@sluice/bench-report';
import { LocalObjectStore } from '../src/object-store/local-object-store.js';
import type { ObjectStore } from '../src/object-store/object-store.js';
import { S3ObjectStore } from '../src/object-store/s3-object-store.js';
import { startTestServer } from '../src/testing.js';
import { BlobWorker } from '../src/worker/blob-worker.js';
import { blobStates, makeBlob, multipartBody, partsFor } from '../test/blob-support.js';
import { startS3Server } from '../test/support/s3-server.js';

const [seconds = 10, blobKiB = 256, perRequest = 10, clients = 4] = process.argv.slice(2, 6).map(Number);
const storeKind = process.argv[6] === 'local' ? 'local' : 's3';
const s3 = await startS3Server();
const server = await startTestServer({ logLevel: 'error' });
console.log(
  `database: ${server.db.kind}; ${clients} clients, ${perRequest} blobs of ${blobKiB} KiB per request`,
);

let stored = 0;
let bytes = 0;
const deadline = Date.now() + seconds * 1000;
const started = Date.now();
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (Date.now() < deadline) {
      const { body, contentType } = multipartBody(
        partsFor(Array.from({ length: perRequest }, () => makeBlob({ size: blobKiB * 1024 }))),
      );
      const response = await fetch(`${server.url}/v1/blobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': contentType },
        body,
      });
      const result = (await response.json()) as { counts: { stored: number } };
      if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${JSON.stringify(result)}`);
      stored += result.counts.stored;
      bytes += body.length;
    }
  }),
);
const ingestSeconds = (Date.now() - started) / 1000;
console.log(
  `ingest: ${stored} blobs stored in ${ingestSeconds.toFixed(1)} s = ${(stored / ingestSeconds).toFixed(0)} blobs/s, ` +
    `${(bytes / 1024 / 1024 / ingestSeconds).toFixed(1)} MiB/s`,
);

const store: ObjectStore =
  storeKind === 'local'
    ? new LocalObjectStore({ directory: join(server.db.dataDir, 'objects') })
    : new S3ObjectStore(s3.storeOptions({ maxAttempts: 3, requestTimeoutMs: 60_000 }));
const worker = new BlobWorker({ db: server.app.db, objectStore: store, concurrency: 8, pollIntervalMs: 20 });
const uploadStarted = Date.now();
worker.start();
for (;;) {
  const states = await blobStates(server);
  if ((states.uploaded ?? 0) >= stored) break;
  if ((states.failed ?? 0) > 0) throw new Error(`blobs failed: ${JSON.stringify(states)}`);
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const uploadSeconds = (Date.now() - uploadStarted) / 1000;
console.log(
  `worker (concurrency 8, ${storeKind === 'local' ? 'local directory' : 's3rver'}): ${stored} blobs uploaded in ${uploadSeconds.toFixed(1)} s = ` +
    `${(stored / uploadSeconds).toFixed(0)} blobs/s, ${((stored * blobKiB) / 1024 / uploadSeconds).toFixed(1)} MiB/s`,
);
reportFigure({
  figure: `POST /v1/blobs staged, ${clients} clients × ${perRequest} blobs of ${blobKiB} KiB (${server.db.kind})`,
  value: bytes / 1e6 / ingestSeconds,
  unit: 'MB/s',
});
reportFigure({
  figure: `blob worker into ${storeKind === 'local' ? 'a local directory' : 's3rver'}, concurrency 8 (${server.db.kind})`,
  value: (stored * blobKiB * 1024) / 1e6 / uploadSeconds,
  unit: 'MB/s',
});
await worker.stop();
await store.close();
await server.close();
await s3.close();
