import type { FastifyBaseLogger } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Database } from '../db/database.js';
import type { BlobWorkerHooks } from './blob-worker.js';

const STATES = ['pending', 'uploading', 'uploaded', 'failed'] as const;

/**
 * Registers the blob pipeline's metrics on `registry`: blobs by state and the age of the oldest
 * unfinished blob (both read from the database at scrape time, so every API or worker process reports
 * the shared truth), and upload attempts by outcome (this process's worker). Returns the worker hooks
 * that feed the attempt counter.
 */
export function registerBlobMetrics(
  registry: Registry,
  db: Database,
  log: FastifyBaseLogger,
): BlobWorkerHooks {
  new Gauge({
    name: 'sluice_blobs',
    help: 'Blobs by state (pending, uploading, uploaded, failed).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      try {
        const rows = await db.query<{ state: string; count: number }>(
          'select state, count(*)::float8 as count from blobs group by state',
        );
        for (const state of STATES) this.set({ state }, 0);
        for (const row of rows) this.set({ state: row.state }, Number(row.count));
      } catch (error) {
        log.warn({ err: error }, 'could not count blobs by state for /metrics; reporting the last values');
      }
    },
  });
  new Gauge({
    name: 'sluice_blob_backlog_age_seconds',
    help: 'Seconds since the oldest blob not yet in object storage (pending or uploading) was received; 0 when none.',
    registers: [registry],
    async collect() {
      try {
        const rows = await db.query<{ age: number }>(
          `select coalesce(extract(epoch from now() - min(i.received_at)), 0)::float8 as age
             from blobs b join items i on i.source = b.source and i.id = b.id
            where b.state in ('pending', 'uploading')`,
        );
        this.set(Number(rows[0]?.age ?? 0));
      } catch (error) {
        log.warn(
          { err: error },
          'could not read the blob backlog age for /metrics; reporting the last value',
        );
      }
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
