import type { RawLine } from './line-splitter.js';

/** A record's text cut from a file: one line, or several grouped by `startPattern`. */
export interface TailLine {
  readonly offset: number;
  /** Start of the file line it begins in (a long line's later piece begins inside one). */
  readonly lineStart: number;
  readonly end: number;
  readonly text: string;
  readonly bytes: number;
  readonly truncated: boolean;
}

/** Decodes a line as UTF-8 (invalid bytes become U+FFFD) and drops a trailing `\r`. */
export function toTailLine(line: RawLine): TailLine {
  let length = line.bytes.length;
  if (length > 0 && line.bytes[length - 1] === 0x0d && !line.truncated) length -= 1;
  return {
    offset: line.offset,
    lineStart: line.lineStart,
    end: line.end,
    text: line.bytes.toString('utf8', 0, length),
    bytes: length,
    truncated: line.truncated,
  };
}

/** What a checkpoint says of the record it starts (see `CheckpointEntry`). */
export interface GroupingResume {
  /** The record ends at this byte: the idle timeout ended it there when it was read before. */
  readonly cut?: number | undefined;
  /** The record is the rest of one cut at `maxBytes`: it is flagged `truncated`. */
  readonly continued?: boolean | undefined;
}

/**
 * Groups lines into records: a line matching `startPattern` starts a record, any other line belongs to the
 * record before it (a stack trace under its message). A record never grows past `maxBytes`: it is shipped
 * flagged `truncated` and the rest continues as a new record. The grouping depends only on where the first
 * record starts and on what the checkpoint says of it (see {@link GroupingResume}), so a re-read from a
 * checkpoint (always the start of a record) groups the same way.
 */
export class MultilineGrouper {
  readonly #startPattern: RegExp;
  readonly #maxBytes: number;
  #lines: TailLine[] = [];
  #bytes = 0;
  #truncated: boolean;
  #cut: number | undefined;

  constructor(startPattern: RegExp, maxBytes: number, resume: GroupingResume = {}) {
    // A global or sticky pattern would carry lastIndex from one test to the next.
    this.#startPattern = new RegExp(startPattern.source, startPattern.flags.replace(/[gy]/g, ''));
    this.#maxBytes = maxBytes;
    this.#truncated = resume.continued === true;
    this.#cut = resume.cut;
  }

  /** Where the pending record ends so far; undefined when none is pending. */
  get pendingEnd(): number | undefined {
    return this.#lines.at(-1)?.end;
  }

  /** True when the pending record is the rest of one cut at `maxBytes` (it is flagged `truncated`). */
  get pendingContinues(): boolean {
    return this.#lines.length > 0 && this.#truncated;
  }

  /**
   * Where reading must resume to get the pending record again: the start of the line it begins in (a
   * checkpoint is always a line start); undefined when none is pending.
   */
  get pendingStart(): number | undefined {
    return this.#lines[0]?.lineStart;
  }

  push(line: RawLine, out: TailLine[]): void {
    const tailLine = toTailLine(line);
    if (this.#cut !== undefined && line.offset >= this.#cut) {
      this.#cut = undefined;
      this.flush(out);
    }
    const starts = line.first && this.#startPattern.test(tailLine.text);
    if (starts || this.#lines.length === 0) {
      this.flush(out);
      this.#add(tailLine);
      return;
    }
    if (this.#bytes + 1 + tailLine.bytes > this.#maxBytes) {
      this.#truncated = true;
      this.flush(out);
      this.#truncated = true;
    }
    this.#add(tailLine);
  }

  /** Emits the pending record, if any. */
  flush(out: TailLine[]): void {
    const first = this.#lines[0];
    const last = this.#lines.at(-1);
    if (first === undefined || last === undefined) return;
    out.push({
      offset: first.offset,
      lineStart: first.lineStart,
      end: last.end,
      text: this.#lines.length === 1 ? first.text : this.#lines.map((line) => line.text).join('\n'),
      bytes: this.#bytes,
      truncated: this.#truncated || this.#lines.some((line) => line.truncated),
    });
    this.#lines = [];
    this.#bytes = 0;
    this.#truncated = false;
  }

  #add(line: TailLine): void {
    this.#bytes += (this.#lines.length === 0 ? 0 : 1) + line.bytes;
    this.#lines.push(line);
  }
}
