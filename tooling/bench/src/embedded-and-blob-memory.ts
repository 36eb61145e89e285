// The embedded default and the API's memory under large blobs, each on `dist/server.js` in its own process:
// - start: the server with nothing but DATA_DIR (a fresh temp directory) and PORT, as `pnpm start` runs it
//   (embedded PGlite, local object directory): milliseconds from spawn to the first `/readyz` 200, on the
//   fresh directory and again on a restart, and the RSS 1 s after ready (targets: < 3 s, < 250 MB);
// - blob memory: the SDK (in this process) sends 4 blobs of 30 MiB to that server; its peak RSS above its
//   idle RSS while it stages them and its worker stores them (target: < 200 MB), on PGlite and, when
//   TEST_DATABASE_URL's server answers, on PostgreSQL.
// Usage: tsx src/embedded-and-blob-memory.ts [--blobs 4] [--mib 30] [--start-only]
// (--start-only: the start figures alone, without the blob part.)
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { reportFigure } from '@sluice/bench-report';
import { createTestDatabase } from '@sluice/ingest-api/testing';
import { createUploader } from '@sluice/uploader-sdk';
import {
  type ApiProcess,
  peakRssBytes,
  rssBytes,
  sampleRss,
  startApiProcess,
  waitUploaded,
} from './api-process.js';

const { values } = parseArgs({
  options: {
    blobs: { type: 'string', default: '4' },
    mib: { type: 'string', default: '30' },
    'start-only': { type: 'boolean', default: false },
  },
});
const BLOBS = Number(values.blobs);
const BLOB_BYTES = Number(values.mib) * 1024 * 1024;
const MB = 1e6;
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends the blobs through a fresh uploader, reports the API's peak RSS above its idle RSS and returns the
 * seconds from the first enqueue until every blob is in the object store.
 */
async function blobMemory(api: ApiProcess, work: string, label: string): Promise<number> {
  await settle(1000);
  const idle = rssBytes(api.pid);
  const sampler = sampleRss(api.pid);
  const started = performance.now();
  const uploader = await createUploader({
    endpoint: api.url,
    apiKey: 'dev-key',
    directory: join(work, 'queue'),
  });
  const ids: string[] = [];
  for (let i = 0; i < BLOBS; i += 1) {
    const body = randomBytes(BLOB_BYTES);
    ids.push(
      (await uploader.enqueueBlob({ type: 'bench.blob', body, contentType: 'application/octet-stream' })).id,
    );
  }
  await uploader.flush();
  await waitUploaded(api.url, 'dev-key', ids);
  const seconds = (performance.now() - started) / 1000;
  await uploader.close();
  const peak = sampler.stop();
  console.log(
    `${label}: ${BLOBS} blobs of ${values.mib} MiB uploaded in ${seconds.toFixed(1)} s; API RSS idle ${(idle / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB`,
  );
  reportFigure({
    figure: `API peak RSS above idle, SDK sending ${BLOBS} blobs of ${values.mib} MiB (${label})`,
    value: (peak - idle) / MB,
    unit: 'MB',
    target: { below: 200 },
    note: `idle ${(idle / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB`,
  });
  return seconds;
}

let embeddedSeconds = 0;
const work = await mkdtemp(join(tmpdir(), 'sluice-bench-embedded-'));
try {
  const env = { DATA_DIR: join(work, 'data') };
  const first = await startApiProcess(env);
  await first.stop();
  const api = await startApiProcess(env);
  try {
    await settle(1000);
    const rss = rssBytes(api.pid);
    console.log(
      `embedded default (PGlite): ready in ${first.readyMs.toFixed(0)} ms on a fresh DATA_DIR, ${api.readyMs.toFixed(0)} ms on restart; RSS 1 s after ready ${(rss / MB).toFixed(0)} MB (peak since start ${(peakRssBytes(api.pid) / MB).toFixed(0)} MB)`,
    );
    reportFigure({
      figure: '`pnpm start` default (PGlite): spawn to /readyz 200, fresh DATA_DIR',
      value: first.readyMs,
      unit: 'ms',
      target: { below: 3000 },
    });
    reportFigure({
      figure: '`pnpm start` default (PGlite): spawn to /readyz 200, restart',
      value: api.readyMs,
      unit: 'ms',
      target: { below: 3000 },
    });
    reportFigure({
      figure: '`pnpm start` default (PGlite): RSS 1 s after ready',
      value: rss / MB,
      unit: 'MB',
      target: { below: 250 },
      note: `peak since start ${(peakRssBytes(api.pid) / MB).toFixed(0)} MB`,
    });
    if (!values['start-only']) embeddedSeconds = await blobMemory(api, work, 'PGlite');
  } finally {
    await api.stop();
  }

  if (!values['start-only']) {
    const db = await createTestDatabase();
    try {
      if (db.kind === 'postgres' && db.url !== undefined) {
        const pg = await startApiProcess({ DATA_DIR: join(work, 'pg-data'), DATABASE_URL: db.url });
        try {
          const seconds = await blobMemory(pg, join(work, 'pg'), 'PostgreSQL');
          reportFigure({
            figure: `SDK sending ${BLOBS} blobs of ${values.mib} MiB until uploaded: PGlite time ÷ PostgreSQL time`,
            value: embeddedSeconds / seconds,
            unit: '×',
            target: { below: 3 },
            note: `${embeddedSeconds.toFixed(1)} s on PGlite, ${seconds.toFixed(1)} s on PostgreSQL`,
          });
        } finally {
          await pg.stop();
        }
      } else console.log('blob memory on PostgreSQL: skipped, no PostgreSQL answered at TEST_DATABASE_URL');
    } finally {
      await db.drop();
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
