// A chaos client: one OS process, like a CLI script, with no handles beyond its uploader. The
// orchestrator starts it in one of these modes:
//   produce NAME        run CLIENTS[NAME].produce until SIGKILLed
//   plant-originals     deliver the planted items' first versions (flush, close, exit)
//   plant-conflicts     from a fresh uploader, send the planted bad items (flush, close, exit)
//   drain               run CLIENTS[--client].drain if any (the log tailer reads to the end), then flush
//                       whatever the directory holds, write its dead letters as JSON, close, exit
// Common flags: --dir, --log, --endpoint, --key, --seed, --app-logs; --incarnation (produce);
// --dead-letters and optionally --client (drain).
import { writeFileSync } from 'node:fs';
import { createUploader, type Uploader } from '@sluice/uploader-sdk';
import { OPEN_FAILED_EXIT_CODE } from './client-exit.js';
import { ClientLog } from './client-log.js';
import { CLIENTS } from './clients.js';
import { OVERSIZE_DATA_BYTES, plantedBlob, plantedItems, plantedRecord } from './planted.js';
import { seededRandom } from './random.js';
import { chaosUploaderOptions } from './uploader-options.js';

function flags(argv: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === undefined || !flag.startsWith('--') || value === undefined) {
      throw new TypeError(`bad arguments: ${argv.join(' ')}`);
    }
    map.set(flag.slice(2), value);
  }
  return map;
}

function required(map: Map<string, string>, name: string): string {
  const value = map.get(name);
  if (value === undefined) throw new TypeError(`--${name} is required`);
  return value;
}

/** Logs the delivered-as-duplicate and dead events of `uploader`, and reports its errors on stderr. */
function watch(uploader: Uploader, log: ClientLog): void {
  uploader.on('delivered', ({ items }) => {
    for (const item of items) if (item.status === 'duplicate') log.write({ kind: 'duplicate', id: item.id });
  });
  uploader.on('dead', ({ items }) => {
    for (const item of items) log.write({ kind: 'dead', id: item.id, code: item.reason.code });
  });
  uploader.on('error', (error) =>
    process.stderr.write(`${new Date().toISOString()} error event: ${error.name}: ${error.message}\n`),
  );
}

async function flushCompletely(uploader: Uploader, what: string): Promise<void> {
  const result = await uploader.flush();
  if (!result.complete) throw new Error(`${what}: flush ended incomplete: ${JSON.stringify(result)}`);
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  const map = flags(mode === 'produce' ? rest.slice(1) : rest);
  const directory = required(map, 'dir');
  const log = new ClientLog(required(map, 'log'));
  const seed = Number(required(map, 'seed'));
  let uploader: Uploader;
  try {
    uploader = await createUploader(
      chaosUploaderOptions(required(map, 'endpoint'), required(map, 'key'), directory),
    );
  } catch (error) {
    // E.g. ENOSPC: opening a queue rewrites its ledger, which needs a little free space.
    console.error(error);
    process.exitCode = OPEN_FAILED_EXIT_CODE;
    return;
  }
  watch(uploader, log);
  const planted = plantedItems(seed);

  if (mode === 'produce') {
    const name = rest[0];
    const client = CLIENTS.find((candidate) => candidate.name === name);
    if (client === undefined) throw new TypeError(`no client named ${JSON.stringify(name)}`);
    const incarnation = Number(required(map, 'incarnation'));
    await client.produce({
      uploader,
      log,
      client: client.name,
      incarnation,
      appLogDirectory: required(map, 'app-logs'),
      random: seededRandom(seed, `client:${client.name}:${incarnation}`),
    });
  } else if (mode === 'plant-originals') {
    const record = plantedRecord(seed, 1);
    const blob = plantedBlob(seed, 1);
    await uploader.enqueue({ id: planted.recordId, type: record.type, ts: record.ts, data: record.data });
    log.write({ kind: 'resolved', itemKind: 'record', id: planted.recordId, hash: record.hash });
    await uploader.enqueueBlob({
      id: planted.blobId,
      type: blob.type,
      ts: blob.ts,
      body: blob.body,
      contentType: blob.contentType,
    });
    log.write({
      kind: 'resolved',
      itemKind: 'blob',
      id: planted.blobId,
      hash: blob.hash,
      sha256: blob.sha256,
    });
    await flushCompletely(uploader, 'plant-originals');
  } else if (mode === 'plant-conflicts') {
    // Enqueued before any other await: the uploader has not heard the servers' lower limits yet and
    // checks the record against the SDK's default (64 KiB), so it reaches a server, which rejects it.
    const oversize = uploader.enqueue({
      id: planted.oversizeId,
      type: 'chaos.planted',
      data: { text: 'x'.repeat(OVERSIZE_DATA_BYTES) },
    });
    await oversize;
    log.write({ kind: 'expect-dead', id: planted.oversizeId, code: 'ITEM_TOO_LARGE' });
    const record = plantedRecord(seed, 2);
    await uploader.enqueue({ id: planted.recordId, type: record.type, ts: record.ts, data: record.data });
    log.write({ kind: 'expect-dead', id: planted.recordId, code: 'IDEMPOTENCY_CONFLICT' });
    const blob = plantedBlob(seed, 2);
    await uploader.enqueueBlob({
      id: planted.blobId,
      type: blob.type,
      ts: blob.ts,
      body: blob.body,
      contentType: blob.contentType,
    });
    log.write({ kind: 'expect-dead', id: planted.blobId, code: 'IDEMPOTENCY_CONFLICT' });
    await flushCompletely(uploader, 'plant-conflicts');
  } else if (mode === 'drain') {
    const name = map.get('client');
    const client = CLIENTS.find((candidate) => candidate.name === name);
    if (name !== undefined && client === undefined)
      throw new TypeError(`no client named ${JSON.stringify(name)}`);
    await client?.drain?.({ uploader, appLogDirectory: required(map, 'app-logs') });
    await flushCompletely(uploader, 'drain');
    writeFileSync(required(map, 'dead-letters'), JSON.stringify(await uploader.deadLetters()));
  } else {
    throw new TypeError(`unknown mode ${JSON.stringify(mode)}`);
  }
  await uploader.close();
  log.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
