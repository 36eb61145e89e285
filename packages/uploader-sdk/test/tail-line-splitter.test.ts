import { describe, expect, it } from 'vitest';
import { LineSplitter, type RawLine } from '../src/tail/line-splitter.js';

/** A small deterministic PRNG, so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const ALPHABET = ['a', 'b', 'é', '€', '😀', ' ', '\n'];

function splitInChunks(bytes: Buffer, next: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(next() * 40);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

function run(chunks: readonly Buffer[], max: number): { lines: RawLine[]; lineStart: number } {
  const splitter = new LineSplitter(max, 0);
  const lines: RawLine[] = [];
  for (const chunk of chunks) splitter.push(chunk, lines);
  return { lines, lineStart: splitter.lineStart };
}

describe('LineSplitter', () => {
  it('cuts the same lines and pieces however the file is read in chunks, never inside a character', () => {
    for (let seed = 1; seed <= 300; seed += 1) {
      const next = random(seed);
      const text = Array.from({ length: 200 }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join('');
      const bytes = Buffer.from(text);
      const max = 4 + Math.floor(next() * 20);
      const whole = run([bytes], max);
      const chunked = run(splitInChunks(bytes, next), max);
      const shape = (lines: RawLine[]) =>
        lines.map((line) => [
          line.offset,
          line.lineStart,
          line.end,
          line.bytes.toString('hex'),
          line.truncated,
          line.first,
        ]);
      expect(shape(chunked.lines), `seed ${seed}`).toEqual(shape(whole.lines));
      expect(chunked.lineStart).toBe(whole.lineStart);
      for (const line of whole.lines) {
        expect(line.bytes.length).toBeLessThanOrEqual(max);
        expect(line.bytes.toString('utf8')).not.toContain('\uFFFD');
      }
      // Pieces put back together give the complete lines of the input.
      const complete = text
        .slice(0, text.lastIndexOf('\n') + 1)
        .split('\n')
        .slice(0, -1);
      const rebuilt: string[] = [];
      let current = '';
      for (const line of whole.lines) {
        current += line.bytes.toString('utf8');
        if (line.end > line.offset + line.bytes.length) {
          rebuilt.push(current);
          current = '';
        }
      }
      expect(rebuilt, `seed ${seed}`).toEqual(complete);
    }
  });

  it('holds back an unterminated line until its newline, and flushes it on demand', () => {
    const splitter = new LineSplitter(100, 10);
    const out: RawLine[] = [];
    splitter.push(Buffer.from('one\ntw'), out);
    expect(out.map((line) => line.bytes.toString())).toEqual(['one']);
    expect(splitter.lineStart).toBe(14);
    splitter.flushPartial(out);
    expect(out.at(-1)).toMatchObject({ offset: 14, end: 16, truncated: false });
    expect(splitter.lineStart).toBe(16);
  });
});
