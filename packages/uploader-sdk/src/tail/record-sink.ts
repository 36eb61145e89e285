import { canonicalJson, DEFAULT_LIMITS, recordHashOfCanonical } from '@sluice/contracts';
import { isWaitAbortedError, sleep } from '../backoff.js';
import { isQueueFullError, isUploaderClosedError } from '../errors.js';
import type { RecordInput } from '../item-input.js';
import type { Uploader } from '../uploader-api.js';
import type { UploaderInternals } from '../uploader-internals.js';
import type { CheckpointEntry } from './checkpoint-store.js';
import type { TailLine } from './multiline.js';

/** Where a line was found, as given to a custom `id` function. */
export interface LinePosition {
  /** The path the file had when the tailer first saw it (kept across renames). */
  readonly file: string;
  /** Byte offset of the record's first byte. */
  readonly offset: number;
  /** The file's fingerprint. */
  readonly fingerprint: string;
}

/** What the sink needs to know about the tailer it ships for. */
export interface RecordSinkOptions {
  readonly uploader: Uploader;
  readonly internals: UploaderInternals | undefined;
  readonly type: string;
  readonly json: boolean;
  readonly id: ((line: string, position: LinePosition) => string) | undefined;
  readonly signal: AbortSignal;
  readonly dead: (event: {
    id: string;
    file: string;
    offset: number;
    reason: { code: string; message: string };
  }) => void;
  readonly warn: (message: string, cause?: unknown) => void;
}

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2000;
/** A record's id, type, ts, hash, keys and queue framing, about. */
const RECORD_OVERHEAD_BYTES = 256;
/** What JSON escapes or a decoder put in place of invalid bytes: lines with these grow as JSON. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for.
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ufffd]/;
/**
 * With `json`, a record's data holds the line twice (as `line` and parsed as `json`): a line whose
 * data would be larger than the protocol's default item limit is shipped as its text alone, flagged
 * `jsonTooLarge`. A constant, not the server's current limit, so that a line read again (after a crash)
 * makes the same record.
 */
const JSON_DATA_LIMIT_BYTES = DEFAULT_LIMITS.maxItemDataBytes;
/**
 * Parsed JSON written canonically is at most this many times as long as its text (`1e20`, 4 bytes, is
 * 21 digits): data of shorter lines is below the limit without being measured.
 */
const JSON_GROWTH_BOUND = 6;
/** Under `drop-oldest`, lines wait while the record queue is fuller than this share of its quota. */
const DROP_OLDEST_HEADROOM = 0.9;

/** The default id of a record: fingerprint, generation and byte offset (see the README's id scheme). */
export function lineId(
  entry: Pick<CheckpointEntry, 'fingerprint' | 'generation' | 'as'>,
  offset: number,
): string {
  // A copy found after a copytruncate is read under the identity of the generation it is a copy of.
  const identity = entry.as ?? entry;
  return `${identity.fingerprint}.${identity.generation}:${offset}`;
}

/**
 * Turns lines into records and enqueues them, waiting (never dropping) while the queue is full. A line the
 * uploader refuses at the door (its data has no storable JSON form, a bad custom id) or that is not JSON
 * under `json: true` is dead-lettered in the uploader's dead-letter store with the reason.
 */
export class RecordSink {
  readonly #options: RecordSinkOptions;

  constructor(options: RecordSinkOptions) {
    this.#options = options;
  }

  /**
   * Enqueues `lines` of the file described by `entry`; resolves once every one is durable in the queue or
   * dead-lettered. Rejects when the tailer stops first (nothing is lost: the checkpoint has not moved past
   * them) or when the uploader was closed.
   */
  async ship(entry: CheckpointEntry, lines: readonly TailLine[]): Promise<void> {
    if (lines.length === 0) return;
    const letters: { input: RecordInput; reason: { code: string; message: string }; offset: number }[] = [];
    let pending: { input: RecordInput; offset: number; bytes: number }[] = [];
    for (const line of lines) {
      const made = this.#record(entry, line);
      if ('reason' in made) letters.push(made);
      else pending.push(...inParts(made, line, entry.file));
    }
    let delay = RETRY_MIN_MS;
    while (pending.length > 0) {
      const slice = await this.#fitting(pending);
      const internals = this.#options.internals;
      const inputs = slice.map(({ input }) => input);
      const results =
        internals === undefined
          ? await Promise.allSettled(inputs.map((input) => this.#options.uploader.enqueue(input)))
          : await internals.enqueueRecords(inputs);
      const again: typeof pending = [];
      let progress = false;
      results.forEach((result, index) => {
        if (result.status === 'fulfilled') {
          progress = true;
          return;
        }
        const error: unknown = result.reason;
        const item = slice[index]!;
        if (isUploaderClosedError(error)) throw error;
        if (error instanceof TypeError || error instanceof RangeError) {
          letters.push({ ...item, reason: { code: 'UNSENDABLE', message: error.message } });
        } else {
          if (!isQueueFullError(error)) this.#options.warn('enqueue failed; retrying', error);
          again.push(item);
        }
      });
      pending = [...again, ...pending.slice(slice.length)];
      if (again.length > 0 && !progress) {
        await this.#wait(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      } else {
        delay = RETRY_MIN_MS;
      }
    }
    if (letters.length > 0) await this.#deadLetter(entry, letters);
  }

  #record(
    entry: CheckpointEntry,
    line: TailLine,
  ):
    | { input: RecordInput; offset: number; bytes: number }
    | { input: RecordInput; offset: number; bytes: number; reason: { code: string; message: string } } {
    const { type, json, id } = this.#options;
    let reason: { code: string; message: string } | undefined;
    let parsed: unknown;
    if (json && !line.truncated) {
      try {
        parsed = JSON.parse(line.text);
      } catch (error) {
        reason = { code: 'INVALID_JSON', message: `line is not JSON: ${(error as Error).message}` };
      }
    }
    // Keys in canonical order (code units), so that canonicalizing the record does not sort them again.
    let data: Record<string, unknown> =
      parsed === undefined
        ? { file: entry.file, line: line.text, offset: line.offset }
        : { file: entry.file, json: parsed, line: line.text, offset: line.offset };
    if (parsed !== undefined && jsonDataTooLarge(data, line)) {
      data = { file: entry.file, jsonTooLarge: true, line: line.text, offset: line.offset };
    }
    if (line.truncated) data.truncated = true;
    let itemId: string;
    try {
      itemId =
        id === undefined
          ? lineId(entry, line.offset)
          : id(line.text, {
              file: entry.file,
              offset: line.offset,
              fingerprint: entry.as?.fingerprint ?? entry.fingerprint,
            });
    } catch (error) {
      itemId = lineId(entry, line.offset);
      reason = { code: 'ID_FUNCTION_FAILED', message: `the id function threw: ${(error as Error).message}` };
    }
    const input: RecordInput = { id: itemId, type, ts: entry.ts, data };
    // What the record takes in the queue, about: its JSON (the line twice with `json`) and the envelope. JSON
    // writes a control character, quote or backslash as up to six bytes and an invalid byte (U+FFFD) as
    // three: a line with any is measured exactly, or the tailer would offer the queue far more than it has.
    const lineBytes = NEEDS_ESCAPE.test(line.text)
      ? Buffer.byteLength(JSON.stringify(line.text))
      : line.bytes;
    const bytes = lineBytes * (data.json === undefined ? 1 : 2) + entry.file.length + RECORD_OVERHEAD_BYTES;
    if (reason === undefined) return { input, offset: line.offset, bytes };
    if (this.#options.internals === undefined) {
      // No dead-letter store to reach (an uploader not made by createUploader): ship it flagged instead.
      return { input: { ...input, data: { ...data, error: reason } }, offset: line.offset, bytes };
    }
    return { input, offset: line.offset, bytes, reason };
  }

  async #deadLetter(
    entry: CheckpointEntry,
    letters: readonly { input: RecordInput; reason: { code: string; message: string }; offset: number }[],
  ): Promise<void> {
    const { internals } = this.#options;
    if (internals === undefined) {
      for (const { reason } of letters)
        this.#options.warn(`line refused and not dead-lettered: ${reason.message}`);
      return;
    }
    const deadAt = Date.now();
    await internals.deadLetter(
      letters.map(({ input, reason }) => {
        const ts = input.ts ?? deadAt;
        let hash = '';
        try {
          hash = recordHashOfCanonical(input.type, ts, canonicalJson(input.data));
        } catch {
          // Data without a canonical form: requeueing it would be refused again anyway.
        }
        return {
          id: input.id ?? '',
          kind: 'record' as const,
          type: input.type,
          ts,
          reason,
          status: 'unsendable',
          deadAt,
          item: { id: input.id, type: input.type, ts, data: input.data, hash },
        };
      }),
    );
    for (const { input, reason, offset } of letters) {
      this.#options.dead({ id: input.id ?? '', file: entry.file, offset, reason });
    }
  }

  /**
   * The longest prefix of `pending` that fits the room left in the record queue (at least one record once
   * the queue is empty), waiting while there is none: lines are not offered to a full queue by the
   * thousand, and under `drop-oldest` none is offered that would push queued records out (the share of
   * the quota kept free absorbs the error of the size estimate).
   */
  async #fitting<T extends { input: RecordInput; bytes: number }>(
    pending: readonly T[],
  ): Promise<readonly T[]> {
    const internals = this.#options.internals;
    if (internals === undefined) return pending;
    const limit = internals.maxQueueBytes * (internals.whenFull === 'drop-oldest' ? DROP_OLDEST_HEADROOM : 1);
    let delay = RETRY_MIN_MS;
    for (;;) {
      const queued = internals.queuedRecordBytes();
      let room = limit - queued;
      let count = 0;
      while (count < pending.length && room >= pending[count]!.bytes) {
        room -= pending[count]!.bytes;
        count += 1;
      }
      if (count > 0) return pending.slice(0, count);
      if (queued === 0) return pending.slice(0, 1);
      await this.#wait(delay);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  }

  async #wait(ms: number): Promise<void> {
    try {
      await sleep(ms, this.#options.signal);
    } catch (error) {
      if (isWaitAbortedError(error)) throw new TailStoppedError();
      throw error;
    }
  }
}

/**
 * A record whose text alone is too large for {@link JSON_DATA_LIMIT_BYTES} once JSON-escaped (a long line
 * of quotes, backslashes or control characters, which JSON writes as 2–6 bytes each; a multiline record
 * of many short lines) is sent as consecutive parts that fit, cut between characters: ids
 * `<id>.<part>`, data `part` (0, 1, …) and `truncated: true`, the same `offset`. The cuts depend only
 * on the text and `file`, so reading the line again makes the same parts.
 */
function inParts<T extends { input: RecordInput; offset: number; bytes: number }>(
  made: T,
  line: TailLine,
  file: string,
): T[] {
  const data = made.input.data as Record<string, unknown>;
  if (data.json !== undefined) return [made];
  const { line: _text, offset, ...flags } = data;
  // What the data's other fields take, a part's own included (`"line":""` counted, its quotes not).
  const others = Buffer.byteLength(
    JSON.stringify({ ...flags, line: '', offset, part: 999_999, truncated: true }),
  );
  const budget = JSON_DATA_LIMIT_BYTES - others + 2;
  if (line.bytes * 6 + 2 <= budget || Buffer.byteLength(JSON.stringify(line.text)) <= budget) return [made];
  return textParts(line.text, budget).map((text, part) => {
    const partData: Record<string, unknown> = {};
    // Keys in canonical order (code units), as in the whole record.
    for (const [key, value] of Object.entries({ ...flags, line: text, offset, part, truncated: true }).sort(
      ([a], [b]) => (a < b ? -1 : a > b ? 1 : 0),
    )) {
      partData[key] = value;
    }
    const bytes = Buffer.byteLength(JSON.stringify(text)) + file.length + RECORD_OVERHEAD_BYTES;
    return { ...made, input: { ...made.input, id: `${made.input.id}.${part}`, data: partData }, bytes };
  });
}

/** Bytes JSON writes for the character (or surrogate pair) at `index` of `text`, and its length. */
function escapedCost(text: string, index: number): [bytes: number, length: number] {
  const code = text.charCodeAt(index);
  if (code === 0x22 || code === 0x5c) return [2, 1];
  if (code < 0x20) return [code === 8 || code === 9 || code === 10 || code === 12 || code === 13 ? 2 : 6, 1];
  if (code < 0x80) return [1, 1];
  if (code < 0x800) return [2, 1];
  if (code >= 0xd800 && code <= 0xdbff) {
    const next = text.charCodeAt(index + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return [4, 2];
    return [6, 1];
  }
  if (code >= 0xdc00 && code <= 0xdfff) return [6, 1];
  return [3, 1];
}

/** `text` cut between characters into parts of at most `budget` bytes once JSON-escaped (quotes too). */
function textParts(text: string, budget: number): string[] {
  const parts: string[] = [];
  let start = 0;
  let bytes = 2;
  let index = 0;
  while (index < text.length) {
    const [cost, length] = escapedCost(text, index);
    if (bytes + cost > budget && index > start) {
      parts.push(text.slice(start, index));
      start = index;
      bytes = 2;
    }
    bytes += cost;
    index += length;
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * Whether record data with `json` is above {@link JSON_DATA_LIMIT_BYTES} (measured only for lines long
 * enough to be). Data without a canonical form is left to the uploader, which refuses it.
 */
function jsonDataTooLarge(data: Record<string, unknown>, line: TailLine): boolean {
  const file = data.file as string;
  const bound = Buffer.byteLength(file) * 6 + line.bytes * (6 + JSON_GROWTH_BOUND) + 64;
  if (bound <= JSON_DATA_LIMIT_BYTES) return false;
  try {
    return Buffer.byteLength(canonicalJson(data)) > JSON_DATA_LIMIT_BYTES;
  } catch {
    return false;
  }
}

/** Internal: the tailer stopped while lines waited for room; they are read again after the next start. */
export class TailStoppedError extends Error {
  override name = 'TailStoppedError' as const;
  constructor() {
    super('the tailer stopped');
  }
}
