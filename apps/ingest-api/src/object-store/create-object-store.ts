import { join } from 'node:path';
import type { Config } from '../config.js';
import { LocalObjectStore } from './local-object-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-object-store.js';

/**
 * The object store a configuration asks for: S3 when `config.s3` is set, otherwise the local directory
 * `DATA_DIR/objects`.
 */
export function createObjectStore(config: Pick<Config, 's3' | 'dataDir'>): ObjectStore {
  if (config.s3 !== undefined) return new S3ObjectStore(config.s3);
  return new LocalObjectStore({ directory: join(config.dataDir, 'objects') });
}
