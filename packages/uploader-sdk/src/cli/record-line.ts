import type { RecordInput } from '../item-input.js';
import { LineSplitter, type RawLine } from '../tail/line-splitter.js';

/** Longest `--records` line read; a longer one is refused without being held in memory whole. */
export const MAX_RECORD_LINE_BYTES = 1024 * 1024;

/** One line of a `--records` input: its text, or why it cannot be read. Numbers count from 1. */
export type NumberedLine =
  | { readonly number: number; readonly text: string }
  | { readonly number: number; readonly problem: string };

/**
 * The lines of an NDJSON input, read in chunks: a line longer than `maxBytes` is reported once and
 * skipped piece by piece, and one that is not UTF-8 is reported rather than decoded with replacement
 * characters (which would store different text than the file holds). A final line without a newline
 * counts; a `\r` before the newline is dropped.
 */
export async function* numberedLines(
  chunks: AsyncIterable<Buffer>,
  maxBytes = MAX_RECORD_LINE_BYTES,
): AsyncGenerator<NumberedLine> {
  const splitter = new LineSplitter(maxBytes, 0);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let number = 0;
  const lines = function* (raw: readonly RawLine[]): Generator<NumberedLine> {
    for (const line of raw) {
      if (line.first) number += 1;
      if (line.truncated) {
        if (line.first) yield { number, problem: `longer than ${maxBytes} bytes` };
        continue;
      }
      const end = line.bytes.at(-1) === 0x0d ? line.bytes.length - 1 : line.bytes.length;
      try {
        yield { number, text: decoder.decode(line.bytes.subarray(0, end)) };
      } catch {
        yield { number, problem: 'not valid UTF-8' };
      }
    }
  };
  for await (const chunk of chunks) {
    const raw: RawLine[] = [];
    splitter.push(chunk, raw);
    yield* lines(raw);
  }
  const rest: RawLine[] = [];
  splitter.flushPartial(rest);
  yield* lines(rest);
}

const FIELDS = new Set(['type', 'data', 'id', 'ts']);

/**
 * One line of a `sluice send --records` input as a record: a JSON object with `type` and `data`, and
 * optionally `id` and `ts` (the fields of `RecordInput`; nothing else, so a misspelt `timestamp` is caught
 * rather than dropped). Returns the problem as text otherwise. The field values are checked by `enqueue`,
 * by the same rules as the server's.
 */
export function parseRecordLine(line: string): RecordInput | { readonly problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { problem: `not JSON (${(error as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problem: 'expected a JSON object {"type", "data", "id"?, "ts"?}' };
  }
  const unknown = Object.keys(value).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) {
    return {
      problem: `unknown field ${unknown.map((key) => JSON.stringify(key)).join(', ')} (a record has type, data, id, ts)`,
    };
  }
  const record = value as { type?: unknown; data?: unknown; id?: unknown; ts?: unknown };
  if (record.type === undefined) return { problem: 'missing "type"' };
  if (!('data' in record)) return { problem: 'missing "data" (use null for none)' };
  return record as RecordInput;
}
