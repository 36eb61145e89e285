import { join } from 'node:path';
import type { Config } from '../config.js';
import { LocalObjectStore } from './local-object-store.js';
import type { ObjectStore } from './object-store.js';

/**
 * The object store a configuration asks for: S3 when `config.s3` is set, otherwise the local directory
 * `DATA_DIR/objects`. The S3 client is loaded only when S3 is configured: importing the AWS SDK costs
 * a server on the local directory about 0.1 s of its start and megabytes of heap it never uses.
 */
export async function createObjectStore(config: Pick<Config, 's3' | 'dataDir'>): Promise<ObjectStore> {
  if (config.s3 !== undefined) {
    const { S3ObjectStore } = await import('./s3-object-store.js');
    return new S3ObjectStore(config.s3);
  }
  return new LocalObjectStore({ directory: join(config.dataDir, 'objects') });
}
