import type { FastifyBaseLogger } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { blobOverview } from '../admin/blob-statements.js';
import type { Database } from '../db/database.js';
import type { BlobWorkerHooks } from './blob-worker.js';

/** Options of {@link registerBlobMetrics}. */
export interface BlobMetricsOptions {
  /** Milliseconds one reading of the blobs table serves scrapes. @default 5000 */
  readonly cacheMs?: number;
}

interface BlobCounts {
  readonly byState: ReadonlyMap<string, number>;
  readonly backlogAgeSeconds: number;
}

/**
 * Registers the blob pipeline's metrics on `registry`: blobs by state and the age of the oldest
 * unfinished blob (read from the database, so every API or worker process reports the shared
 * truth), and upload attempts by outcome (this process's worker). Returns the worker hooks that
 * feed the attempt counter. The blobs table is read by one statement at most once per `cacheMs`,
 * however many scrapes come in, and concurrent scrapes share the reading in flight, so that
 * scrapes cannot load the database with counts of a large table.
 */
export function registerBlobMetrics(
  registry: Registry,
  db: Database,
  log: FastifyBaseLogger,
  options: BlobMetricsOptions = {},
): BlobWorkerHooks {
  const cacheMs = options.cacheMs ?? 5000;
  let last: BlobCounts | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<BlobCounts | undefined> | undefined;

  async function read(): Promise<BlobCounts> {
    const { counts, backlogAgeMs } = await blobOverview(db);
    return { byState: new Map(Object.entries(counts)), backlogAgeSeconds: backlogAgeMs / 1000 };
  }

  /** The latest reading, at most `cacheMs` old; after a failed reading, the one before it. */
  function counts(): Promise<BlobCounts | undefined> {
    if (Date.now() - readAt < cacheMs) return Promise.resolve(last);
    reading ??= read()
      .then(
        (fresh) => {
          last = fresh;
          return fresh;
        },
        (error: unknown) => {
          log.warn({ err: error }, 'could not read blob counts for /metrics; reporting the last values');
          return last;
        },
      )
      .finally(() => {
        // A failed reading is not retried before the interval is over either.
        readAt = Date.now();
        reading = undefined;
      });
    return reading;
  }

  new Gauge({
    name: 'sluice_blobs',
    help: 'Blobs by state (pending, uploading, uploaded, failed), read at most every METRICS_CACHE_MS.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const current = await counts();
      if (current === undefined) return;
      for (const [state, count] of current.byState) this.set({ state }, count);
    },
  });
  new Gauge({
    name: 'sluice_blob_backlog_age_seconds',
    help: 'Seconds since the oldest blob not yet in object storage (pending or uploading) was received; 0 when none.',
    registers: [registry],
    async collect() {
      const current = await counts();
      if (current !== undefined) this.set(current.backlogAgeSeconds);
    },
  });
  const attempts = new Counter({
    name: 'sluice_blob_upload_attempts_total',
    help: 'Blob upload attempts of this process by outcome: uploaded, already_present, retry, failed (retry budget spent).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return {
    onUploaded: (_blob, skipped) => attempts.inc({ outcome: skipped ? 'already_present' : 'uploaded' }),
    onAttemptFailed: (_blob, final) => attempts.inc({ outcome: final ? 'failed' : 'retry' }),
  };
}
