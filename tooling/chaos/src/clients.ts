import { createHash } from 'node:crypto';
import { blobItemHash, recordHash } from '@sluice/contracts';
import type { Uploader } from '@sluice/uploader-sdk';
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

/**
 * The producing clients of a run. Adding one (e.g. a log tailer once the SDK exports `tailFile`) is one
 * entry here: the orchestrator starts, kills, restarts and drains every client listed.
 */
export const CLIENTS: readonly ClientDefinition[] = [
  { name: 'records', produce: produceRecords },
  { name: 'blobs', produce: produceBlobs },
];
