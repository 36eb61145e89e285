/** A line (or a piece of an over-long one) cut out of a file, with the byte offset it starts at. */
export interface RawLine {
  /** Byte offset of its first byte in the file. */
  readonly offset: number;
  /** Byte offset of the line it is part of (differs from `offset` for the later pieces of a long line). */
  readonly lineStart: number;
  /** Byte offset just past it, including its newline when it had one. */
  readonly end: number;
  /** Its bytes without the newline. */
  readonly bytes: Buffer;
  /** Part of a line longer than `maxLineBytes`, which is shipped as consecutive pieces. */
  readonly truncated: boolean;
  /** False for the second and later pieces of an over-long line (they never start a multiline record). */
  readonly first: boolean;
}

const NEWLINE = 0x0a;

/**
 * Cuts a stream of chunks into lines without ever holding more than `maxLineBytes` of one line: a longer
 * line is emitted in pieces as it is read, each cut on a UTF-8 character boundary. The cut points depend
 * only on where the line starts, so reading again from a line's start (after a crash) yields the same
 * pieces at the same offsets, hence the same record ids and contents.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  #parts: Buffer[] = [];
  #partBytes = 0;
  /** Where the line being read starts: nothing before it is still pending here. */
  #lineStart: number;
  /** Where the next piece of the line being read starts. */
  #pieceStart: number;
  #split = false;

  constructor(maxLineBytes: number, offset: number) {
    this.#maxLineBytes = maxLineBytes;
    this.#lineStart = offset;
    this.#pieceStart = offset;
  }

  /** The start of the incomplete line held back, or the end of what was pushed when there is none. */
  get lineStart(): number {
    return this.#lineStart;
  }

  /** True while pieces of an over-long line were emitted and its end is not read yet. */
  get splitting(): boolean {
    return this.#split;
  }

  /** Bytes of an incomplete line held back. */
  get pendingBytes(): number {
    return this.#partBytes;
  }

  /** Appends `chunk` (read at the end of what was pushed before; it may be reused by the caller later). */
  push(chunk: Buffer, out: RawLine[]): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const segmentEnd = newline < 0 ? chunk.length : newline;
      start = this.#takeOverflow(chunk, start, segmentEnd, out);
      if (newline < 0) {
        if (start < segmentEnd) {
          this.#parts.push(Buffer.from(chunk.subarray(start, segmentEnd)));
          this.#partBytes += segmentEnd - start;
        }
        return;
      }
      const bytes = this.#concat(chunk.subarray(start, newline));
      out.push({
        offset: this.#pieceStart,
        lineStart: this.#lineStart,
        end: this.#pieceStart + bytes.length + 1,
        bytes,
        truncated: this.#split,
        first: !this.#split,
      });
      this.#lineStart = this.#pieceStart + bytes.length + 1;
      this.#pieceStart = this.#lineStart;
      this.#split = false;
      start = newline + 1;
    }
  }

  /** Emits the incomplete line held back as if it were complete (a rotated file that stays unterminated). */
  flushPartial(out: RawLine[]): void {
    if (this.#partBytes === 0) return;
    const bytes = this.#concat(Buffer.alloc(0));
    out.push({
      offset: this.#pieceStart,
      lineStart: this.#lineStart,
      end: this.#pieceStart + bytes.length,
      bytes,
      truncated: this.#split,
      first: !this.#split,
    });
    this.#lineStart = this.#pieceStart + bytes.length;
    this.#pieceStart = this.#lineStart;
    this.#split = false;
  }

  /**
   * Emits pieces of `maxLineBytes` while the line would outgrow it; returns where the rest of `chunk`
   * starts. A cut backs up over UTF-8 continuation bytes (at most 3), into the held-back bytes if need be,
   * so that it falls on the same byte however the file was read in chunks.
   */
  #takeOverflow(chunk: Buffer, start: number, end: number, out: RawLine[]): number {
    let from = start;
    while (this.#partBytes + (end - from) > this.#maxLineBytes) {
      const held = this.#partBytes === 0 ? undefined : Buffer.concat(this.#parts, this.#partBytes);
      const byteAt = (k: number): number =>
        k < this.#partBytes ? held![k]! : chunk[from + k - this.#partBytes]!;
      let length = this.#maxLineBytes;
      for (let back = 0; back < 3 && length > 1 && (byteAt(length) & 0xc0) === 0x80; back += 1) length -= 1;
      let bytes: Buffer;
      if (held !== undefined && length <= this.#partBytes) {
        bytes = Buffer.from(held.subarray(0, length));
        this.#parts = length < held.length ? [Buffer.from(held.subarray(length))] : [];
        this.#partBytes -= length;
      } else {
        const taken = length - this.#partBytes;
        bytes = this.#concat(chunk.subarray(from, from + taken));
        from += taken;
      }
      out.push({
        offset: this.#pieceStart,
        lineStart: this.#lineStart,
        end: this.#pieceStart + bytes.length,
        bytes,
        truncated: true,
        first: !this.#split,
      });
      this.#pieceStart += bytes.length;
      this.#split = true;
    }
    return from;
  }

  #concat(tail: Buffer): Buffer {
    const bytes =
      this.#parts.length === 0
        ? Buffer.from(tail)
        : Buffer.concat([...this.#parts, tail], this.#partBytes + tail.length);
    this.#parts = [];
    this.#partBytes = 0;
    return bytes;
  }
}
