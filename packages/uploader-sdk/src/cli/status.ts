import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorBodyReadSchema, ItemStatusResponseReadSchema, itemPath } from '@sluice/contracts';
import ky from 'ky';
import { BlobFiles } from '../blob-files.js';
import { openDeadLetterStore } from '../dead-letter-store.js';
import {
  type DiskQueueSnapshot,
  inspectDiskQueue,
  type LockHolder,
  readLockHolder,
} from '../disk-queue/index.js';
import { readText } from '../transport.js';
import { COMMON_ARGS, commonOptions, EXIT, refusedKeyMessage, requireServer } from './common.js';

/** Usage text of `sluice status`. */
export const STATUS_USAGE = `sluice status [--json] [--dir DIR]
  What DIR holds: queued records and blobs (bytes as the SDK's stats().queuedBytes counts them), the
  oldest one's age, dead letters, and which process owns DIR. Reads the files without taking the lock,
  so it works while an uploader runs on DIR.
sluice status ID… --endpoint URL [--key-file PATH]
  Each item's state on the server (a JSON line per id); exit status 3 when some ids are unknown, 1 when
  an answer was not the API's (a proxy, a redirect, a 5xx: said on the id's line).`;

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

/** What one answer to `GET /v1/items/{id}` says. */
type Lookup =
  | { readonly kind: 'found'; readonly item: unknown }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'refused'; readonly status: number }
  | { readonly kind: 'failed'; readonly why: string };

/** Most bytes read of an answer to `GET /v1/items/{id}`: an item's status is far smaller. */
const LOOKUP_ANSWER_MAX_BYTES = 64 * 1024;
/** How long one lookup may take, answer included. */
const LOOKUP_TIMEOUT_MS = 30_000;

const NOT_THE_API =
  "not the Sluice ingest API's answer (a proxy, a login page or another service?): check --endpoint";

/** Reads an answer by its body, not its status alone: a proxy's 404 or 403 says nothing about the id or key. */
async function readLookup(response: Response): Promise<Lookup> {
  const text = await readText(response, LOOKUP_ANSWER_MAX_BYTES);
  let body: unknown;
  try {
    body = text === undefined ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const { status } = response;
  if (status >= 300 && status < 400) {
    const location = response.headers.get('location');
    return {
      kind: 'failed',
      why:
        location === null
          ? 'a redirect without a location; configure the final URL'
          : `redirects to ${URL.canParse(location, response.url) ? new URL(location, response.url).href : JSON.stringify(location)}; configure the final URL`,
    };
  }
  if (status === 200) {
    const item = ItemStatusResponseReadSchema.safeParse(body);
    return item.success ? { kind: 'found', item: body } : { kind: 'failed', why: NOT_THE_API };
  }
  const error = ErrorBodyReadSchema.safeParse(body);
  if (!error.success) return { kind: 'failed', why: NOT_THE_API };
  const { code, message } = error.data.error;
  if (status === 404 && code === 'NOT_FOUND') return { kind: 'unknown' };
  if (status === 401 || status === 403) return { kind: 'refused', status };
  return { kind: 'failed', why: `${code}: ${message}` };
}

async function itemStatus(
  ids: readonly string[],
  server: { endpoint: string; key: string },
): Promise<number> {
  let missing = 0;
  let failed = 0;
  for (const id of ids) {
    let response: Response;
    let lookup: Lookup;
    try {
      // One timeout for the whole answer, body included (ky's own would end with the headers).
      const signal = AbortSignal.timeout(LOOKUP_TIMEOUT_MS);
      response = await ky.get(itemPath(id).slice(1), {
        prefixUrl: server.endpoint,
        headers: { authorization: `Bearer ${server.key}` },
        throwHttpErrors: false,
        timeout: false,
        signal,
        // A redirect is reported rather than followed to a page that is not the API.
        redirect: 'manual',
      });
      lookup = await readLookup(response);
    } catch (error) {
      failed += 1;
      const why =
        error instanceof Error && error.name === 'TimeoutError'
          ? `no whole answer within ${LOOKUP_TIMEOUT_MS / 1000} s`
          : error instanceof Error
            ? error.message
            : String(error);
      process.stdout.write(`${id}\tno answer: ${why}\n`);
      continue;
    }
    switch (lookup.kind) {
      case 'refused':
        process.stderr.write(`sluice: ${refusedKeyMessage(lookup.status, true)}\n`);
        return EXIT.error;
      case 'found':
        process.stdout.write(`${id}\t${JSON.stringify(lookup.item)}\n`);
        break;
      case 'unknown':
        missing += 1;
        process.stdout.write(`${id}\tHTTP 404\n`);
        break;
      case 'failed':
        failed += 1;
        process.stdout.write(`${id}\tHTTP ${response.status}: ${lookup.why}\n`);
        break;
    }
  }
  return failed > 0 ? EXIT.error : missing > 0 ? EXIT.partial : EXIT.ok;
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
