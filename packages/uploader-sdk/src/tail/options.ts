import { isValidItemType } from '@sluice/contracts';
import { MAX_TIMER_MS } from '../timers.js';
import type { Uploader } from '../uploader-api.js';
import type { LinePosition } from './record-sink.js';

/** Options of {@link tailFile}; only `uploader` is required. */
export interface TailOptions {
  /** The uploader the records are enqueued on. */
  readonly uploader: Uploader;
  /**
   * The records' `type`.
   * @default 'log'
   */
  readonly type?: string;
  /**
   * Parse each line as JSON into the record's `data.json`. A line that is not JSON is dead-lettered (in the
   * uploader's dead-letter store, code `INVALID_JSON`) rather than sent. The data then holds the line twice
   * (`line` and `json`): a line whose data would be over the protocol's default 64 KiB per item is sent as
   * text without `json`, flagged `jsonTooLarge: true`.
   * @default false
   */
  readonly json?: boolean;
  /**
   * A record starts at a line matching this; other lines belong to the record before them (stack traces).
   * A record waits for the next matching line, or `multilineTimeoutMs` without a new line.
   * @default undefined (one record per line)
   */
  readonly startPattern?: RegExp;
  /**
   * A pending multiline record is sent after this long without a new line.
   * @default 1000
   */
  readonly multilineTimeoutMs?: number;
  /**
   * Content-derived ids: returns the record's id (1–128 characters of `[A-Za-z0-9._:-]`) for a line's
   * text and position. The same id with different content is a `conflict` (dead-lettered by the uploader).
   * @default undefined (`<fingerprint>.<generation>:<offset>`)
   */
  readonly id?: (line: string, position: LinePosition) => string;
  /**
   * Where the checkpoints are kept.
   * @default `<uploader directory>/tail` (required for an uploader not made by `createUploader`)
   */
  readonly checkpointDirectory?: string;
  /**
   * A line longer than this many bytes is sent as consecutive records of at most this size, each flagged
   * `truncated: true`; no more of it is ever held in memory. At most 49_152, so that a line fits the
   * server's default 64 KiB per item once JSON-escaped unless JSON escapes many of its characters (quotes
   * and backslashes take 2 bytes, control characters up to 6): such a line is sent as consecutive parts
   * that fit (ids `<id>.<part>`, data `part`, flagged `truncated`). With `json`, a line too big for both
   * `line` and `json` is sent as text (see `json`).
   * @default 32_768
   */
  readonly maxLineBytes?: number;
  /**
   * How often files are looked at (in addition to `fs.watch` events, which may not be delivered).
   * @default 250
   */
  readonly pollIntervalMs?: number;
  /**
   * A rotated-away (renamed or deleted) file is read to its end and let go once it stayed this long
   * without growing; its unterminated last line, if any, is then sent as a line.
   * @default 5000
   */
  readonly rotateWaitMs?: number;
  /**
   * At most this many bytes are read from one file before the others get their turn.
   * @default 4_194_304 (4 MiB)
   */
  readonly maxReadBytes?: number;
  /**
   * Checkpoints of files not seen for this long are forgotten.
   * @default 604_800_000 (7 days)
   */
  readonly checkpointTtlMs?: number;
  /**
   * Checkpoints are written at most this often while lines flow (and at once when a file is first seen, its
   * timestamp moves on, it is rotated or the tailer stops). A crash re-reads up to this much, as duplicates.
   * @default 1000
   */
  readonly checkpointIntervalMs?: number;
  /**
   * Keep the process alive while the tailer runs (like a listening server). With `false`, a tailer never
   * keeps a process alive; `stop()` always does until it resolves.
   * @default true
   */
  readonly keepAlive?: boolean;
}

/** Options of {@link tailDirectory}: those of {@link TailOptions} and which files to follow. */
export interface TailDirectoryOptions extends TailOptions {
  /**
   * Glob(s) a file name must match (`*`, `?`, `[a-z]`, `{a,b}`); the directory is not searched recursively.
   * @default '*'
   */
  readonly include?: string | readonly string[];
  /**
   * Glob(s) of file names never followed.
   * @default []
   */
  readonly exclude?: string | readonly string[];
  /**
   * At most this many files are open at once; the least recently active are closed (their checkpoints
   * kept) and opened again when they grow.
   * @default 256
   */
  readonly maxOpenFiles?: number;
  /**
   * A file that has not grown for this long is closed (and opened again when it grows).
   * @default 300_000 (5 minutes)
   */
  readonly idleTimeoutMs?: number;
}

/** The defaults of every optional tail option. */
export const DEFAULT_TAIL_OPTIONS = Object.freeze({
  type: 'log',
  json: false,
  multilineTimeoutMs: 1000,
  maxLineBytes: 32_768,
  pollIntervalMs: 250,
  rotateWaitMs: 5000,
  maxReadBytes: 4 * 1024 * 1024,
  checkpointTtlMs: 7 * 24 * 3600 * 1000,
  checkpointIntervalMs: 1000,
  keepAlive: true,
  include: '*',
  exclude: Object.freeze([]) as readonly string[],
  maxOpenFiles: 256,
  idleTimeoutMs: 300_000,
} as const);

/** Options with defaults filled in. */
export type ResolvedTailOptions = Required<
  Omit<TailDirectoryOptions, 'startPattern' | 'id' | 'checkpointDirectory' | 'include' | 'exclude'>
> &
  Pick<TailDirectoryOptions, 'startPattern' | 'id' | 'checkpointDirectory'> & {
    readonly include: string | readonly string[];
    readonly exclude: string | readonly string[];
  };

/**
 * The largest `maxLineBytes`: a line of it stays under the server's default 64 KiB once JSON-escaped, unless
 * JSON escapes many of its characters (then it is sent in parts: see `maxLineBytes`).
 */
export const MAX_LINE_BYTES_LIMIT = 49_152;

function fail(name: string, value: unknown, expected: string): never {
  const shown = value instanceof RegExp ? String(value) : (JSON.stringify(value) ?? String(value));
  throw new TypeError(`Expected \`${name}\` to be ${expected}, got ${shown}`);
}

function integerIn(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(name, value, `an integer from ${min} to ${max}`);
  }
}

function globs(name: string, value: unknown): void {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((glob) => typeof glob !== 'string' || glob === '')) {
    fail(name, value, 'a glob or an array of globs');
  }
}

/**
 * Fills in defaults and validates every option at once.
 * @throws {TypeError} naming the first bad option and its value.
 */
export function resolveTailOptions(options: TailDirectoryOptions): ResolvedTailOptions {
  if (typeof options !== 'object' || options === null) fail('options', options, 'an object');
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const resolved = { ...DEFAULT_TAIL_OPTIONS, ...defined } as ResolvedTailOptions;
  const uploader = resolved.uploader as unknown as Record<string, unknown> | undefined;
  if (typeof uploader !== 'object' || uploader === null || typeof uploader.enqueue !== 'function') {
    fail('uploader', '<not an uploader>', 'an uploader (from createUploader)');
  }
  if (!isValidItemType(resolved.type))
    fail('type', resolved.type, '1-128 characters without control characters');
  if (typeof resolved.json !== 'boolean') fail('json', resolved.json, 'a boolean');
  if (resolved.startPattern !== undefined && !(resolved.startPattern instanceof RegExp)) {
    fail('startPattern', resolved.startPattern, 'a RegExp');
  }
  if (resolved.id !== undefined && typeof resolved.id !== 'function') fail('id', resolved.id, 'a function');
  if (
    resolved.checkpointDirectory !== undefined &&
    (typeof resolved.checkpointDirectory !== 'string' || resolved.checkpointDirectory === '')
  ) {
    fail('checkpointDirectory', resolved.checkpointDirectory, 'a non-empty path');
  }
  integerIn('multilineTimeoutMs', resolved.multilineTimeoutMs, 1, MAX_TIMER_MS);
  integerIn('maxLineBytes', resolved.maxLineBytes, 16, MAX_LINE_BYTES_LIMIT);
  integerIn('pollIntervalMs', resolved.pollIntervalMs, 1, MAX_TIMER_MS);
  integerIn('rotateWaitMs', resolved.rotateWaitMs, 0, MAX_TIMER_MS);
  integerIn('maxReadBytes', resolved.maxReadBytes, 1, Number.MAX_SAFE_INTEGER);
  integerIn('checkpointTtlMs', resolved.checkpointTtlMs, 1, Number.MAX_SAFE_INTEGER);
  integerIn('checkpointIntervalMs', resolved.checkpointIntervalMs, 0, MAX_TIMER_MS);
  if (typeof resolved.keepAlive !== 'boolean') fail('keepAlive', resolved.keepAlive, 'a boolean');
  globs('include', resolved.include);
  globs('exclude', resolved.exclude);
  integerIn('maxOpenFiles', resolved.maxOpenFiles, 1, 1_000_000);
  integerIn('idleTimeoutMs', resolved.idleTimeoutMs, 1, MAX_TIMER_MS);
  return Object.freeze(resolved);
}
