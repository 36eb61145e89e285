import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../durable-file.js';
import { AckSet, type SeqRange } from './ack-set.js';

/** File name of the ack ledger inside the queue directory. */
export const ACK_LEDGER_FILE = 'acks.json';

interface LedgerDocument {
  readonly version: 1;
  readonly watermark: number;
  readonly ranges: readonly SeqRange[];
}

/** What loading the ledger found. */
export interface LoadedLedger {
  readonly acks: AckSet;
  /** The file existed but could not be parsed; every entry on disk will be read again. */
  readonly unreadable: boolean;
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isLedgerDocument(value: unknown): value is LedgerDocument {
  if (typeof value !== 'object' || value === null) return false;
  const document = value as Partial<LedgerDocument>;
  return (
    document.version === 1 &&
    isSeq(document.watermark) &&
    Array.isArray(document.ranges) &&
    document.ranges.every(
      (range: unknown) =>
        Array.isArray(range) &&
        range.length === 2 &&
        isSeq(range[0]) &&
        isSeq(range[1]) &&
        range[0] <= range[1],
    )
  );
}

/**
 * Loads the ack ledger of `directory`. A missing ledger is empty. An unreadable one is treated as empty too
 * (it is only ever replaced atomically, so this takes outside damage): entries are then delivered again,
 * which the server answers as duplicates, rather than the queue refusing to open.
 */
export async function loadLedgerFile(directory: string): Promise<LoadedLedger> {
  let text: string;
  try {
    text = await readFile(join(directory, ACK_LEDGER_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { acks: new AckSet(), unreadable: false };
    throw error;
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return { acks: new AckSet(), unreadable: true };
  }
  if (!isLedgerDocument(document)) return { acks: new AckSet(), unreadable: true };
  return { acks: new AckSet(document.watermark, document.ranges), unreadable: false };
}

/** Durably replaces the ledger of `directory` with `acks` (write temp, fsync, rename, fsync directory). */
export async function saveLedgerFile(directory: string, acks: AckSet): Promise<void> {
  const document: LedgerDocument = { version: 1, watermark: acks.watermark, ranges: acks.ranges };
  await writeFileAtomic(join(directory, ACK_LEDGER_FILE), JSON.stringify(document));
}
