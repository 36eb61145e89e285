import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { blobItemHash, recordHash } from '@sluice/contracts';
import { type Tail, tailDirectory, type Uploader } from '@sluice/uploader-sdk';
import { APP_LOG, APP_LOG_INCLUDE } from './app-log.js';
import type { ClientLog } from './client-log.js';
import type { Random } from './random.js';

/** What a producing client process gets. */
export interface ProduceContext {
  readonly uploader: Uploader;
  readonly log: ClientLog;
  /** This client's payload stream for this incarnation. */
  readonly random: Random;
  readonly client: string;
  /** How many times this client was started before (0 for the first process). */
  readonly incarnation: number;
  /** The directory the run's log writer appends to and rotates in. */
  readonly appLogDirectory: string;
}

/** What a client's drain process gets, before it flushes the queue. */
export interface DrainContext {
  readonly uploader: Uploader;
  readonly appLogDirectory: string;
}

/**
 * A producing client: one OS process per incarnation running {@link ClientDefinition.produce} on its own
 * queue directory until it is SIGKILLed, then drained by a fresh process at the end. Every client is
 * killed and restarted by the fault schedule, and is a candidate for the full-disk fault.
 */
export interface ClientDefinition {
  /** Names the queue directory, the log files and the payload stream. */
  readonly name: string;
  /** Runs until the process is killed; logs each id once its enqueue resolved. */
  produce(context: ProduceContext): Promise<never>;
  /**
   * Runs in the drain process before its flush, once every producer is stopped (e.g. reads what is left
   * to read); the drain then flushes the queue completely.
   */
  drain?(context: DrainContext): Promise<void>;
}

const RECORD_INTERVAL_MS = 25;
const MAX_PENDING_RECORDS = 500;
const MAX_PENDING_BLOBS = 4;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Enqueues a record every 25 ms, each naming its client, incarnation and sequence number. */
async function produceRecords({
  uploader,
  log,
  random,
  client,
  incarnation,
}: ProduceContext): Promise<never> {
  let pending = 0;
  for (let n = 0; ; n++) {
    await sleep(RECORD_INTERVAL_MS);
    if (pending >= MAX_PENDING_RECORDS) continue;
    const type = 'chaos.record';
    const ts = Date.now();
    const data = { client, incarnation, n, text: random.bytes(random.int(16, 300)).toString('base64') };
    const hash = recordHash({ type, ts, data });
    pending++;
    uploader
      .enqueue({ type, ts, data })
      .then(
        ({ id }) => log.write({ kind: 'resolved', itemKind: 'record', id, hash }),
        (error: NodeJS.ErrnoException) => log.write({ kind: 'refused', error: error.code ?? error.name }),
      )
      .finally(() => pending--);
  }
}

/** Enqueues a blob of 50–500 KB of random bytes every 250–500 ms. */
async function produceBlobs({ uploader, log, random, client, incarnation }: ProduceContext): Promise<never> {
  let pending = 0;
  for (let n = 0; ; n++) {
    await sleep(random.int(250, 500));
    if (pending >= MAX_PENDING_BLOBS) continue;
    const body = random.bytes(random.int(50_000, 500_000));
    const type = 'chaos.blob';
    const ts = Date.now();
    const contentType = 'application/octet-stream';
    const meta = { client, incarnation, n };
    const sha256 = createHash('sha256').update(body).digest('hex');
    const hash = blobItemHash({ type, ts, contentType, size: body.byteLength, sha256, meta });
    pending++;
    uploader
      .enqueueBlob({ type, ts, body, contentType, meta })
      .then(
        ({ id }) => log.write({ kind: 'resolved', itemKind: 'blob', id, hash, sha256 }),
        (error: NodeJS.ErrnoException) => log.write({ kind: 'refused', error: error.code ?? error.name }),
      )
      .finally(() => pending--);
  }
}

/** Follows the writer's directory: the live `app.log` and its rotated files, copies included. */
function tailAppLogs(uploader: Uploader, directory: string): Tail {
  const tail = tailDirectory(directory, {
    uploader,
    // Default ids (`<fingerprint>.<generation>:<offset>`): a copytruncate copy is read under the ids of
    // the generation it is a copy of, from where reading of it stood, so each line is stored once.
    include: APP_LOG_INCLUDE,
  });
  const say = (what: string) => process.stdout.write(`${new Date().toISOString()} ${what}\n`);
  tail.on('opened', (e) => say(`opened ${e.path} ${e.fingerprint}.${e.generation} at ${e.offset}`));
  tail.on('rotated', (e) => say(`rotated ${e.path} ${e.fingerprint} ${e.reason}`));
  tail.on('truncated', (e) => say(`truncated ${e.path} ${e.fingerprint}.${e.generation} ${e.reason}`));
  tail.on('released', (e) => say(`released ${e.path} ${e.fingerprint}`));
  tail.on('dead', (e) => say(`dead ${e.id} ${e.file}:${e.offset} ${e.reason.code}`));
  tail.on('warning', (e) =>
    say(`warning ${e.path ?? ''} ${e.message} ${String((e.cause as Error | undefined)?.message ?? '')}`),
  );
  tail.on('error', (error) => say(`error ${error.name}: ${error.message}`));
  return tail;
}

/** Tails the log writer's directory into the uploader until the process is killed. */
async function produceLogLines({ uploader, appLogDirectory }: ProduceContext): Promise<never> {
  tailAppLogs(uploader, appLogDirectory);
  return new Promise<never>(() => {});
}

/**
 * With the writer stopped: tails until every file of the directory that the tailer follows is read and
 * durably enqueued to its end (lag 0, twice in a row), then stops the tailer (saving its checkpoints).
 * Throws if the tailer stops on its own, or makes no progress for 60 s.
 */
async function drainLogLines({ uploader, appLogDirectory }: DrainContext): Promise<void> {
  const tail = tailAppLogs(uploader, appLogDirectory);
  // The names APP_LOG_INCLUDE matches.
  const followed = (name: string) => name === APP_LOG || name.startsWith(`${APP_LOG}.`);
  let caughtUp = 0;
  let lastLines = 0;
  let lastProgressAt = Date.now();
  while (caughtUp < 2) {
    await sleep(250);
    const stats = tail.stats();
    if (stats.stopped) throw new Error('the tailer stopped on its own while draining');
    if (stats.lines !== lastLines) {
      lastLines = stats.lines;
      lastProgressAt = Date.now();
    }
    const behind = readdirSync(appLogDirectory)
      .filter(followed)
      .flatMap((name) => {
        const path = join(appLogDirectory, name);
        const size = statSync(path).size;
        const file = stats.files.find((candidate) => candidate.path === path);
        return size === 0 || file?.offset === size ? [] : [`${name}: ${file?.offset ?? 'unseen'} of ${size}`];
      });
    caughtUp = behind.length === 0 ? caughtUp + 1 : 0;
    if (behind.length > 0 && Date.now() - lastProgressAt > 60_000) {
      throw new Error(`the tailer made no progress for 60 s; behind: ${behind.join(', ')}`);
    }
  }
  await tail.stop();
}

/**
 * The producing clients of a run. Adding one is one entry here: the orchestrator starts, kills, restarts and drains every client listed.
 */
export const CLIENTS: readonly ClientDefinition[] = [
  { name: 'records', produce: produceRecords },
  { name: 'blobs', produce: produceBlobs },
  { name: 'log', produce: produceLogLines, drain: drainLogLines },
];
