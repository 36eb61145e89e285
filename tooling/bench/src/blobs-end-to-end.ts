// Blob throughput end to end: the SDK enqueues N blobs, the ingest API (its own process, `dist/server.js`,
// ROLE=all so its blob worker runs too) stages them, and the worker uploads them into s3rver; timed from the
// first enqueue until `GET /v1/items/:id` says every one is `uploaded`. The ceiling, in the same run: the
// same bytes sent straight to the same s3rver bucket with `PutObject`, as many at once as the worker's
// concurrency (WORKER_CONCURRENCY, default 4). Target: ≥ 0.6 × the ceiling.
// On PostgreSQL it also times the database's share alone: the same bytes inserted into a copy of
// `blob_staging` and read back, in 1 MiB chunks as hex text, as the API and the worker do, 4 at once with
// nothing else running. The whole path cannot be faster than that part.
// Usage: tsx src/blobs-end-to-end.ts [--blobs 24] [--mib 4]
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { reportFigure } from '@sluice/bench-report';
import { createTestDatabase } from '@sluice/ingest-api/testing';
import { createUploader } from '@sluice/uploader-sdk';
import postgres from 'postgres';
import S3rver from 's3rver';
import { startApiProcess, waitUploaded } from './api-process.js';

const { values } = parseArgs({
  options: {
    blobs: { type: 'string', default: '24' },
    mib: { type: 'string', default: '4' },
  },
});
const BLOBS = Number(values.blobs);
const BLOB_BYTES = Number(values.mib) * 1024 * 1024;
const CONCURRENCY = 4; // the worker's default WORKER_CONCURRENCY
const BUCKET = 'sluice-bench';
const totalMb = (BLOBS * BLOB_BYTES) / 1e6;
const CHUNK_BYTES = 1024 * 1024; // the API's STAGING_CHUNK_BYTES

/**
 * Seconds to insert `bodies` into a copy of `blob_staging` and read them back, chunk by chunk as the API
 * and the worker do (hex text decoded and encoded by the database, one transaction per blob), `CONCURRENCY`
 * blobs at once.
 */
async function stagingAloneSeconds(url: string, bodies: readonly Buffer[]): Promise<number> {
  const sql = postgres(url, { max: CONCURRENCY, onnotice: () => {} });
  try {
    await sql`create table bench_staging (like blob_staging including all)`;
    const chunksOf = (body: Buffer) =>
      Array.from({ length: Math.ceil(body.length / CHUNK_BYTES) }, (_, seq) =>
        body.subarray(seq * CHUNK_BYTES, (seq + 1) * CHUNK_BYTES),
      );
    const eachBlob = async (work: (index: number) => Promise<void>) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < bodies.length) await work(next++);
        }),
      );
    };
    const started = performance.now();
    await eachBlob((index) =>
      sql.begin(async (tx) => {
        for (const [seq, chunk] of chunksOf(bodies[index]!).entries()) {
          await tx.unsafe(
            "insert into bench_staging (source, id, seq, bytes) values ('bench', $1, $2, decode($3, 'hex'))",
            [String(index), seq, chunk.toString('hex')],
          );
        }
      }),
    );
    await eachBlob(async (index) => {
      for (let seq = 0; seq * CHUNK_BYTES < bodies[index]!.length; seq += 1) {
        const [row] = await sql.unsafe<{ hex: string }[]>(
          "select encode(bytes, 'hex') as hex from bench_staging where source = 'bench' and id = $1 and seq = $2",
          [String(index), seq],
        );
        if (Buffer.from(row?.hex ?? '', 'hex').length === 0) throw new Error(`chunk ${index}/${seq} missing`);
      }
    });
    const seconds = (performance.now() - started) / 1000;
    await sql`drop table bench_staging`;
    return seconds;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const work = await mkdtemp(join(tmpdir(), 'sluice-bench-blobs-'));
const s3 = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: join(work, 's3'),
  configureBuckets: [{ name: BUCKET }],
});
const { port } = await s3.run();
const endpoint = `http://127.0.0.1:${port}`;
const db = await createTestDatabase();
const bodies = Array.from({ length: BLOBS }, () => randomBytes(BLOB_BYTES));
try {
  // Ceiling: PutObject of the same bytes, CONCURRENCY at a time.
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  let next = 0;
  const putStarted = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < BLOBS) {
        const index = next++;
        await client.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: `ceiling/${index}`,
            Body: bodies[index]!,
            ContentType: 'application/octet-stream',
          }),
        );
      }
    }),
  );
  const putSeconds = (performance.now() - putStarted) / 1000;
  client.destroy();
  console.log(
    `direct PutObject of ${BLOBS} × ${values.mib} MiB to s3rver, ${CONCURRENCY} at once: ${(totalMb / putSeconds).toFixed(1)} MB/s`,
  );

  const api = await startApiProcess({
    DATA_DIR: join(work, 'api'),
    ...(db.url === undefined ? {} : { DATABASE_URL: db.url }),
    S3_BUCKET: BUCKET,
    S3_ENDPOINT: endpoint,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    S3_FORCE_PATH_STYLE: 'true',
    WORKER_POLL_INTERVAL_MS: '50',
    RATE_LIMIT_RPS: '100000',
    RATE_LIMIT_BURST: '100000',
    LOG_LEVEL: 'warn',
  });
  try {
    const uploader = await createUploader({
      endpoint: api.url,
      apiKey: 'dev-key',
      directory: join(work, 'queue'),
    });
    const started = performance.now();
    const ids = await Promise.all(
      bodies.map(
        async (body) =>
          (await uploader.enqueueBlob({ type: 'bench.blob', body, contentType: 'application/octet-stream' }))
            .id,
      ),
    );
    await uploader.flush();
    const stagedSeconds = (performance.now() - started) / 1000;
    await waitUploaded(api.url, 'dev-key', ids);
    const seconds = (performance.now() - started) / 1000;
    await uploader.close();
    console.log(
      `SDK → API (${db.kind}) → worker → s3rver: ${BLOBS} × ${values.mib} MiB staged in ${stagedSeconds.toFixed(1)} s, uploaded in ${seconds.toFixed(1)} s: ${(totalMb / seconds).toFixed(1)} MB/s`,
    );
    reportFigure({
      figure: `blobs SDK → API → worker → s3rver, ${BLOBS} × ${values.mib} MiB (${db.kind})`,
      value: totalMb / seconds,
      unit: 'MB/s',
      ceiling: totalMb / putSeconds,
      ceilingLabel: `direct PutObject of the same bytes to the same s3rver, ${CONCURRENCY} at once`,
      target: { ratioAtLeast: 0.6 },
    });
    reportFigure({
      figure: `blobs SDK → API staged (flush done), ${BLOBS} × ${values.mib} MiB (${db.kind})`,
      value: totalMb / stagedSeconds,
      unit: 'MB/s',
    });
  } finally {
    await api.stop();
  }
  if (db.url !== undefined) {
    const seconds = await stagingAloneSeconds(db.url, bodies);
    console.log(
      `PostgreSQL staging alone (insert + read back, 1 MiB hex chunks, ${CONCURRENCY} at once): ${(totalMb / seconds).toFixed(1)} MB/s`,
    );
    reportFigure({
      figure: `blob staging in PostgreSQL alone: the same ${BLOBS} × ${values.mib} MiB inserted and read back as the API and worker do, ${CONCURRENCY} at once`,
      value: totalMb / seconds,
      unit: 'MB/s',
      ceiling: totalMb / putSeconds,
      ceilingLabel: `direct PutObject of the same bytes to the same s3rver, ${CONCURRENCY} at once`,
    });
  }
} finally {
  await db.drop();
  await s3.close();
  await rm(work, { recursive: true, force: true });
}
