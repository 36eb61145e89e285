import { existsSync, readFileSync } from 'node:fs';
import { blobObjectKey } from '@sluice/contracts';
import type { DeadLetter } from '@sluice/uploader-sdk';
import { appLogLine, appLogSeq, linesOnDisk, type WriterSummary } from './app-log.js';
import { readClientLogs } from './client-log.js';
import type { ChaosDatabase } from './database.js';
import type { ChaosObjectStore } from './object-store.js';

/** What the checker found; every list but `unlogged` must be empty for a pass. */
export interface CheckResult {
  readonly enqueued: { readonly records: number; readonly blobs: number };
  readonly delivered: number;
  readonly rowsInDatabase: number;
  /** Rows no log names: their enqueue resolved but the client was killed before it logged the id. */
  readonly unlogged: number;
  readonly duplicatesAbsorbed: { readonly events: number; readonly items: number };
  readonly enqueueRefused: Record<string, number>;
  readonly lost: string[];
  readonly wrongContent: string[];
  readonly duplicateRows: string[];
  readonly blobs: { readonly uploaded: number; readonly objectsVerified: number };
  readonly blobProblems: string[];
  /** The `log` client: the writer's lines against the `log` records stored. */
  readonly tail: TailCheck;
  readonly deadLetters: {
    readonly expected: { readonly id: string; readonly code: string }[];
    readonly found: {
      readonly id: string;
      readonly code: string;
      readonly status: string | undefined;
      readonly directory: string;
    }[];
    readonly missing: string[];
    readonly unexpected: string[];
  };
}

/** What the log tailer check found; `lost`, `duplicated`, `foreign` and `problems` must be empty. */
export interface TailCheck {
  /** Lines the writer appended (each unique), and its rotations. */
  readonly written: number;
  readonly rotations: { readonly rename: number; readonly copytruncate: number };
  /** `log` rows in the database, and how many distinct lines they hold. */
  readonly rowsStored: number;
  readonly linesStored: number;
  /** Written, not stored (`seq=N`). */
  readonly lost: string[];
  /** Stored in more than one row. */
  readonly duplicated: string[];
  /** Stored, never written. */
  readonly foreign: string[];
  /** The writer's own record is missing, or disagrees with its files. */
  readonly problems: string[];
}

/** Where the log writer wrote, to check the `log` client against. */
export interface TailCheckInput {
  readonly seed: number;
  readonly directory: string;
  readonly writerSummaryPath: string;
}

interface Resolved {
  readonly itemKind: 'record' | 'blob';
  readonly hash: string;
  readonly sha256: string | undefined;
}

/**
 * Compares what the clients logged as resolved with the database, the object store and the dead
 * letters each drained queue directory holds (`deadLetterFiles`: directory → JSON of `deadLetters()`).
 */
export async function checkRun(
  logDirectory: string,
  deadLetterFiles: ReadonlyMap<string, string>,
  db: ChaosDatabase,
  store: ChaosObjectStore,
  source: string,
  tailInput: TailCheckInput,
): Promise<CheckResult> {
  const resolved = new Map<string, Resolved>();
  const expectedDead = new Map<string, string>();
  const refused: Record<string, number> = {};
  const duplicateIds = new Set<string>();
  let duplicateEvents = 0;
  const wrongContent: string[] = [];
  for (const { file, entry } of readClientLogs(logDirectory)) {
    if (entry.kind === 'resolved') {
      const earlier = resolved.get(entry.id);
      if (earlier !== undefined && earlier.hash !== entry.hash) {
        wrongContent.push(`${entry.id}: logged twice with different hashes (${file})`);
      }
      resolved.set(entry.id, { itemKind: entry.itemKind, hash: entry.hash, sha256: entry.sha256 });
    } else if (entry.kind === 'expect-dead') expectedDead.set(entry.id, entry.code);
    else if (entry.kind === 'duplicate') {
      duplicateEvents++;
      duplicateIds.add(entry.id);
    } else if (entry.kind === 'refused') refused[entry.error] = (refused[entry.error] ?? 0) + 1;
  }

  const sql = db.sql;
  const rows = await sql<{ id: string; kind: string; type: string; hash: string }[]>`
    select id, kind, type, hash from items where source = ${source}`;
  const byId = new Map(rows.map((row) => [row.id, row]));
  const blobRows = await sql<{ id: string; state: string; sha256: string; object_key: string | null }[]>`
    select id, state, sha256, object_key from blobs where source = ${source}`;
  const blobById = new Map(blobRows.map((row) => [row.id, row]));

  const lost: string[] = [];
  const blobProblems: string[] = [];
  let delivered = 0;
  let objectsVerified = 0;
  const verifiedObjects = new Map<string, string | undefined>();
  for (const [id, item] of resolved) {
    const row = byId.get(id);
    if (row === undefined) {
      lost.push(`${item.itemKind} ${id}`);
      continue;
    }
    delivered++;
    if (row.kind !== item.itemKind || row.hash !== item.hash) {
      wrongContent.push(`${id}: stored ${row.kind} ${row.hash}, enqueued ${item.itemKind} ${item.hash}`);
    }
    if (item.itemKind !== 'blob') continue;
    const blob = blobById.get(id);
    if (blob === undefined) {
      blobProblems.push(`${id}: item row without a blobs row`);
      continue;
    }
    if (blob.state !== 'uploaded') blobProblems.push(`${id}: state ${blob.state}, not uploaded`);
    if (blob.sha256 !== item.sha256)
      blobProblems.push(`${id}: sha256 ${blob.sha256}, enqueued ${item.sha256}`);
    const key = blob.object_key ?? blobObjectKey(blob.sha256);
    if (!verifiedObjects.has(key)) verifiedObjects.set(key, await store.sha256Of(key));
    const actual = verifiedObjects.get(key);
    if (actual === undefined) blobProblems.push(`${id}: no object at ${key}`);
    else if (actual !== item.sha256) blobProblems.push(`${id}: object ${key} has sha256 ${actual}`);
    else objectsVerified++;
  }
  const staged = await sql<{ count: string }[]>`select count(*) from blob_staging where source = ${source}`;
  if (Number(staged[0]?.count ?? 0) !== 0)
    blobProblems.push(`${staged[0]?.count} blobs still staged after upload`);

  // The primary key (source, id) makes a second row per id impossible; a resend under a new id shows up as
  // two rows with the same client, incarnation and sequence number.
  const duplicateRows = [
    ...(
      await sql<{ key: string; count: string }[]>`
        select concat_ws(':', data->>'client', data->>'incarnation', data->>'n') as key, count(*) from items
        where source = ${source} and kind = 'record' and data ? 'n'
        group by 1 having count(*) > 1`
    ).map((row) => `record ${row.key} stored ${row.count} times under different ids`),
    ...(
      await sql<{ key: string; count: string }[]>`
        select concat_ws(':', meta->>'client', meta->>'incarnation', meta->>'n') as key, count(*) from blobs
        where source = ${source} and meta ? 'n'
        group by 1 having count(*) > 1`
    ).map((row) => `blob ${row.key} stored ${row.count} times under different ids`),
  ];

  // Every dead letter counts, the log client's included: a copytruncate copy is read under the ids of
  // the generation it copies, so it makes no conflict.
  const tail = await checkTail(tailInput, db, source);
  const found: CheckResult['deadLetters']['found'] = [];
  for (const [directory, file] of deadLetterFiles) {
    for (const letter of JSON.parse(readFileSync(file, 'utf8')) as DeadLetter[]) {
      found.push({ id: letter.id, code: letter.reason.code, status: letter.status, directory });
    }
  }
  const missing: string[] = [];
  for (const [id, code] of expectedDead) {
    const matches = found.filter((letter) => letter.id === id);
    if (matches.length === 0) missing.push(`${id} (${code}): no dead letter`);
    else if (matches.length > 1) missing.push(`${id} (${code}): ${matches.length} dead letters`);
    else if (matches[0]?.code !== code)
      missing.push(`${id}: dead letter ${matches[0]?.code}, expected ${code}`);
  }
  const unexpected = found
    .filter((letter) => !expectedDead.has(letter.id))
    .map((letter) => `${letter.id} in ${letter.directory}: ${letter.status} ${letter.code}`);

  let records = 0;
  let blobs = 0;
  for (const item of resolved.values()) {
    if (item.itemKind === 'record') records++;
    else blobs++;
  }
  return {
    enqueued: { records, blobs },
    delivered,
    rowsInDatabase: rows.length,
    unlogged: rows.filter((row) => row.type !== 'log' && !resolved.has(row.id)).length,
    duplicatesAbsorbed: { events: duplicateEvents, items: duplicateIds.size },
    enqueueRefused: refused,
    lost,
    wrongContent,
    duplicateRows,
    blobs: { uploaded: blobRows.filter((row) => row.state === 'uploaded').length, objectsVerified },
    blobProblems,
    tail,
    deadLetters: {
      expected: [...expectedDead].map(([id, code]) => ({ id, code })),
      found,
      missing,
      unexpected,
    },
  };
}

interface StoredLogRow {
  readonly id: string;
  readonly line: string | null;
  readonly file: string | null;
}

/**
 * Every line the writer wrote must be stored exactly once, by content (the `line` of the `log` rows,
 * whatever their ids), and nothing else.
 */
async function checkTail(input: TailCheckInput, db: ChaosDatabase, source: string): Promise<TailCheck> {
  const problems: string[] = [];
  let summary: WriterSummary = { written: 0, rotations: { rename: 0, copytruncate: 0 }, copies: [] };
  if (existsSync(input.writerSummaryPath)) {
    summary = JSON.parse(readFileSync(input.writerSummaryPath, 'utf8')) as WriterSummary;
  } else {
    problems.push('the log writer left no summary (it did not stop cleanly)');
  }
  const expected = new Map<string, number>();
  for (let n = 0; n < summary.written; n++) expected.set(appLogLine(input.seed, n), n);

  // The writer's files hold every line it says it wrote (copies repeat some), and nothing else.
  const onDisk = linesOnDisk(input.directory);
  const notOnDisk = [...expected.keys()].filter((line) => !onDisk.has(line));
  if (notOnDisk.length > 0) problems.push(`${notOnDisk.length} written lines are in no file of the writer`);
  const strangeOnDisk = [...onDisk.keys()].filter((line) => !expected.has(line));
  if (strangeOnDisk.length > 0)
    problems.push(`${strangeOnDisk.length} lines on disk the writer did not count`);

  const rows = await db.sql<StoredLogRow[]>`
    select id, data->>'line' as line, data->>'file' as file from items where source = ${source} and type = 'log'`;
  const byLine = new Map<string, StoredLogRow[]>();
  for (const row of rows) {
    const line = row.line ?? '';
    byLine.set(line, [...(byLine.get(line) ?? []), row]);
  }
  const label = (line: string) => {
    const seq = appLogSeq(line);
    return seq === undefined ? JSON.stringify(line.slice(0, 60)) : `seq=${seq}`;
  };
  const lost = [...expected.keys()].filter((line) => !byLine.has(line)).map(label);
  const duplicated: string[] = [];
  const foreign: string[] = [];
  for (const [line, stored] of byLine) {
    if (!expected.has(line)) foreign.push(`${label(line)} (${stored.length} rows)`);
    else if (stored.length > 1)
      duplicated.push(
        `${label(line)} stored ${stored.length} times: ${stored.map((row) => row.id).join(', ')}`,
      );
  }

  return {
    written: summary.written,
    rotations: summary.rotations,
    rowsStored: rows.length,
    linesStored: byLine.size,
    lost,
    duplicated,
    foreign,
    problems,
  };
}
