// Uploader benchmark: end-to-end delivered items/s into the real ingest API (real PostgreSQL when
// TEST_DATABASE_URL's server answers, else embedded PGlite — said in the output).
// - ceiling: producers enqueue for N seconds into an uploader with nobody to deliver to: the SDK's own
//   durable-append rate;
// - in-memory: the same producers for N seconds while the uploader delivers to an HTTP server (a process of
//   its own, as the API would be) that answers every item `stored` without storing anything; then flush.
//   Compared with the ceiling (target: ≥ 0.5×);
// - live: producers enqueue ~200-byte records for N seconds while the uploader delivers; then flush.
// - backlog: a fresh uploader drains a backlog left on disk by a closed one.
// Usage: tsx bench/uploader.ts [--seconds 10] [--producers 256] [--backlog 100000]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { reportFigure } from '@sluice/bench-report';
import { startStoredServerProcess } from '@sluice/bench-report/json-server';
import { DEFAULT_LIMITS } from '@sluice/contracts';
import { startTestServer } from '@sluice/ingest-api/testing';
import { createUploader, type Uploader } from '../src/index.js';

const { values } = parseArgs({
  strict: false,
  options: {
    seconds: { type: 'string', default: '10' },
    producers: { type: 'string', default: '256' },
    backlog: { type: 'string', default: '100000' },
  },
});
const seconds = Number(values.seconds);
const producers = Number(values.producers);
const backlog = Number(values.backlog);
const rate = (count: number, ms: number): string =>
  `${Math.round((count / ms) * 1000).toLocaleString('en-US')} items/s`;
const payload = { user: 'u-12345', action: 'click', target: 'button#checkout', pad: 'x'.repeat(90) };

/** Producers enqueue into `uploader` until `seconds` have passed; the enqueued count and the time taken. */
async function produce(uploader: Uploader): Promise<{ enqueued: number; ms: number }> {
  let enqueued = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (performance.now() < deadline) {
        await uploader.enqueue({ type: 'bench', data: payload });
        enqueued += 1;
      }
    }),
  );
  return { enqueued, ms: performance.now() - started };
}

/** The SDK's own durable-append rate: an uploader whose endpoint never answers, so nothing is delivered. */
async function durableAppendCeiling(): Promise<number> {
  const directory = await mkdtemp(join(tmpdir(), 'sluice-bench-ceiling-'));
  try {
    const uploader = await createUploader({
      endpoint: 'http://127.0.0.1:1',
      apiKey: 'unused',
      directory,
      backoffBaseMs: 60_000,
      backoffMaxMs: 60_000,
    });
    const { enqueued, ms } = await produce(uploader);
    await uploader.close();
    console.log(
      `durable enqueue with nobody to deliver to, ${producers} producers for ${seconds} s: ${rate(enqueued, ms)}`,
    );
    return (enqueued / ms) * 1000;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/**
 * Producers enqueue for `seconds` while the uploader delivers to a server that answers every item `stored`,
 * storing nothing, in a process of its own (its parsing must not take the SDK's thread); then flush.
 */
async function intoMemory(): Promise<number> {
  const memory = await startStoredServerProcess(DEFAULT_LIMITS);
  const directory = await mkdtemp(join(tmpdir(), 'sluice-bench-memory-'));
  try {
    const uploader = await createUploader({ endpoint: memory.url, apiKey: 'bench', directory });
    const started = performance.now();
    const { enqueued, ms } = await produce(uploader);
    await uploader.flush();
    const totalMs = performance.now() - started;
    const { delivered } = uploader.stats();
    await uploader.close();
    console.log(
      `into an in-memory server answering every item stored, ${producers} producers for ${seconds} s:`,
    );
    console.log(`  durable enqueue:      ${rate(enqueued, ms)}`);
    console.log(`  end-to-end delivered: ${rate(delivered, totalMs)} (enqueue start to flush end)`);
    return (delivered / totalMs) * 1000;
  } finally {
    await rm(directory, { recursive: true, force: true });
    await memory.close();
  }
}

const ceiling = await durableAppendCeiling();
reportFigure({
  figure: `SDK into an in-memory server answering stored, ${producers} producers, default options`,
  value: await intoMemory(),
  unit: 'items/s',
  ceiling,
  ceilingLabel: "the SDK's durable enqueue with nobody to deliver to ('fsync')",
  target: { ratioAtLeast: 0.5 },
});

const server = await startTestServer({
  logLevel: 'error',
  rateLimit: { rps: 1_000_000, burst: 1_000_000 },
});
console.log(
  `ingest API on ${server.db.kind === 'postgres' ? 'real PostgreSQL' : 'embedded PGlite (no PostgreSQL answered)'}`,
);
const count = async (): Promise<number> => {
  const [row] = await server.query<{ n: string | number }>(
    'select count(*) as n from items where source = $1',
    [server.source],
  );
  return Number(row?.n ?? 0);
};

try {
  const directory = await mkdtemp(join(tmpdir(), 'sluice-bench-uploader-'));
  try {
    const uploader = await createUploader({ endpoint: server.url, apiKey: server.apiKey, directory });
    const started = performance.now();
    const { enqueued, ms: enqueueMs } = await produce(uploader);
    const deliveredDuring = uploader.stats().delivered;
    await uploader.flush();
    const totalMs = performance.now() - started;
    const stats = uploader.stats();
    console.log(`live, ${producers} producers for ${seconds} s (durability 'fsync', default options):`);
    console.log(
      `  durable enqueue:      ${rate(enqueued, enqueueMs)} (${enqueued.toLocaleString('en-US')} records)`,
    );
    console.log(`  delivered meanwhile:  ${rate(deliveredDuring, enqueueMs)}`);
    console.log(`  end-to-end delivered: ${rate(stats.delivered, totalMs)} (enqueue start to flush end)`);
    console.log(
      `  rows in database:     ${(await count()).toLocaleString('en-US')}; final concurrency ${stats.concurrency}`,
    );
    reportFigure({
      figure: `SDK → API → ${server.db.kind === 'postgres' ? 'PostgreSQL' : 'PGlite'} end to end, ${producers} producers, default options`,
      value: (stats.delivered / totalMs) * 1000,
      unit: 'items/s',
    });
    // Leave a backlog on disk for the second phase, delivered by nobody.
    await uploader.close();
  } finally {
    await rm(directory, { recursive: true, force: true });
  }

  const backlogDir = await mkdtemp(join(tmpdir(), 'sluice-bench-backlog-'));
  try {
    const offline = await createUploader({
      endpoint: 'http://127.0.0.1:1',
      apiKey: server.apiKey,
      directory: backlogDir,
      durability: 'os',
      backoffBaseMs: 60_000,
      backoffMaxMs: 60_000,
    });
    const writers = 64;
    let next = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (next < backlog) {
          next += 1;
          await offline.enqueue({ type: 'backlog', data: payload });
        }
      }),
    );
    await offline.close();
    const before = await count();
    const uploader = await createUploader({
      endpoint: server.url,
      apiKey: server.apiKey,
      directory: backlogDir,
    });
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 25);
    const started = performance.now();
    await uploader.flush();
    const ms = performance.now() - started;
    clearInterval(sampler);
    const stats = uploader.stats();
    await uploader.close();
    console.log(
      `backlog of ${backlog.toLocaleString('en-US')} records on disk, drained by a fresh uploader:`,
    );
    console.log(
      `  delivered:            ${rate(stats.delivered, ms)} (${Math.round(ms)} ms; concurrency ${stats.concurrency})`,
    );
    console.log(`  rows added:           ${((await count()) - before).toLocaleString('en-US')}`);
    const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
    console.log(`  RSS (uploader and API in one process): ${mib(rssBefore)} before, ${mib(rssPeak)} peak`);
    reportFigure({
      figure: `fresh uploader draining a ${backlog.toLocaleString('en-US')}-record backlog into the API (${server.db.kind})`,
      value: (stats.delivered / ms) * 1000,
      unit: 'items/s',
    });
  } finally {
    await rm(backlogDir, { recursive: true, force: true });
  }
} finally {
  await server.close();
}
