import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { itemPath } from '@sluice/contracts';
import ky from 'ky';
import { BlobFiles } from '../blob-files.js';
import { openDeadLetterStore } from '../dead-letter-store.js';
import {
  type DiskQueueSnapshot,
  inspectDiskQueue,
  type LockHolder,
  readLockHolder,
} from '../disk-queue/index.js';
import { COMMON_ARGS, commonOptions, EXIT, refusedKeyMessage, requireServer } from './common.js';

/** Usage text of `sluice status`. */
export const STATUS_USAGE = `sluice status [--json] [--dir DIR]
  What DIR holds: queued records and blobs (bytes as the SDK's stats().queuedBytes counts them), the
  oldest one's age, dead letters, and which process owns DIR. Reads the files without taking the lock,
  so it works while an uploader runs on DIR.
sluice status ID… --endpoint URL [--key-file PATH]
  Each item's state on the server (a JSON line per id); exit status 3 when some ids are unknown.`;

/** What `sluice status` reports about a directory. */
interface DirectoryStatus {
  readonly directory: string;
  /** False when DIR does not exist (yet): nothing was ever queued there. */
  readonly exists: boolean;
  readonly owner: LockHolder | null;
  readonly records: QueueStatus;
  readonly blobs: QueueStatus;
  /** Items queued, records and blobs. */
  readonly queued: number;
  /** Bytes queued: records' JSON plus blob copies, like `stats().queuedBytes`. */
  readonly queuedBytes: number;
  readonly deadLetters: number;
}

interface QueueStatus {
  readonly queued: number;
  readonly bytes: number;
  /** Age of the oldest queued item in ms (0 when empty). */
  readonly oldestAgeMs: number;
  readonly corruptSkipped: number;
}

/** `sluice status`: local queue state, or items' server state; returns the process exit code. */
export async function status(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { ...COMMON_ARGS, json: { type: 'boolean' } },
  });
  const common = await commonOptions(values, env);
  if (positionals.length > 0) return itemStatus(positionals, requireServer(common));
  const state = await directoryStatus(common.dir);
  process.stdout.write(values.json === true ? `${JSON.stringify(state)}\n` : describe(state));
  return EXIT.ok;
}

async function itemStatus(
  ids: readonly string[],
  server: { endpoint: string; key: string },
): Promise<number> {
  let missing = 0;
  for (const id of ids) {
    const response = await ky.get(itemPath(id).slice(1), {
      prefixUrl: server.endpoint,
      headers: { authorization: `Bearer ${server.key}` },
      throwHttpErrors: false,
    });
    if (response.status === 401 || response.status === 403) {
      process.stderr.write(`sluice: ${refusedKeyMessage(response.status)}\n`);
      return EXIT.error;
    }
    if (response.status === 404) missing += 1;
    process.stdout.write(
      `${id}\t${response.status === 200 ? JSON.stringify(await response.json()) : `HTTP ${response.status}`}\n`,
    );
  }
  return missing === 0 ? EXIT.ok : EXIT.partial;
}

async function directoryStatus(directory: string): Promise<DirectoryStatus> {
  const now = Date.now();
  const queueStatus = (snapshot: DiskQueueSnapshot, bytes: number): QueueStatus => ({
    queued: snapshot.entries,
    bytes,
    oldestAgeMs: snapshot.oldestAppendedAt === undefined ? 0 : Math.max(0, now - snapshot.oldestAppendedAt),
    corruptSkipped: snapshot.corruptSkipped,
  });
  const owner =
    (await readLockHolder(join(directory, 'records'))) ?? (await readLockHolder(join(directory, 'blobs')));
  const records = await inspectDiskQueue(join(directory, 'records'));
  const blobs = await inspectDiskQueue(join(directory, 'blobs'));
  const blobBytes = await BlobFiles.measure(join(directory, 'blob-data'));
  const deadLetters = await openDeadLetterStore({
    directory: join(directory, 'dead-letters'),
    readOnly: true,
  });
  let dead: number;
  try {
    dead = await deadLetters.count();
  } finally {
    await deadLetters.close();
  }
  return {
    directory,
    exists: await stat(directory).then(
      (stats) => stats.isDirectory(),
      () => false,
    ),
    owner: owner ?? null,
    records: queueStatus(records, records.bytes),
    blobs: queueStatus(blobs, blobBytes),
    queued: records.entries + blobs.entries,
    queuedBytes: records.bytes + blobBytes,
    deadLetters: dead,
  };
}

function describeOwner(owner: LockHolder | null): string {
  if (owner === null) return 'none (no uploader has it open)';
  const who =
    (owner.pid === undefined ? 'a process' : `process ${owner.pid}`) +
    (owner.host === undefined ? '' : ` on host ${owner.host}`) +
    (owner.since === undefined ? '' : ` since ${owner.since}`);
  if (owner.running === false) return `none: the lock file names ${who}, which no longer runs`;
  return `in use by ${who}`;
}

function describe(state: DirectoryStatus): string {
  const queue = (name: string, queue: QueueStatus): string =>
    `${name}\t${queue.queued} queued\t${queue.bytes} bytes\toldest ${
      queue.queued === 0 ? '-' : `${Math.round(queue.oldestAgeMs / 1000)}s`
    }\t${queue.corruptSkipped} corrupt skipped`;
  return `${[
    `directory\t${state.directory}${state.exists ? '' : ' (does not exist)'}`,
    `owner\t${describeOwner(state.owner)}`,
    queue('records', state.records),
    queue('blobs', state.blobs),
    `total\t${state.queued} queued\t${state.queuedBytes} bytes`,
    `dead letters\t${state.deadLetters}`,
  ].join('\n')}\n`;
}
