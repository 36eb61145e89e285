import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import { BlobSpool } from '../ingest/blob-spool.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Where verified blob parts wait for their staging transaction. */
    blobSpool: BlobSpool;
  }
}

/** Options of {@link spoolPlugin}. */
export interface SpoolPluginOptions {
  /** `DATA_DIR/spool`. */
  readonly directory: string;
  /** `SPOOL_MAX_BYTES`. */
  readonly maxBytes: number;
}

/**
 * Opens the {@link BlobSpool} (sweeping what a crashed process left), publishes the bytes it holds as
 * `sluice_blob_spool_bytes`, and removes this process's spool directory when the app closes.
 */
export const spoolPlugin = fp<SpoolPluginOptions>(
  async (app, options) => {
    const spool = await BlobSpool.open({ ...options, logger: app.log });
    app.decorate('blobSpool', spool);
    app.addHook('onClose', () => spool.close());
    new Gauge({
      name: 'sluice_blob_spool_bytes',
      help: 'Bytes reserved in the blob spool by uploads in flight (at most SPOOL_MAX_BYTES).',
      registers: [app.metrics.registry],
      collect() {
        this.set(spool.reservedBytes);
      },
    });
  },
  { name: 'sluice-spool', dependencies: ['sluice-metrics'] },
);
