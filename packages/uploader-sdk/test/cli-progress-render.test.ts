import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, renderProgress, type SendProgressState } from '../src/cli/progress.js';

const state = (overrides: Partial<SendProgressState>): SendProgressState => ({
  filesTotal: 10,
  bytesTotal: 4_000_000,
  filesQueued: 10,
  filesDone: 0,
  bytesDone: 0,
  records: undefined,
  note: undefined,
  ...overrides,
});

describe('the progress line', () => {
  it.each([
    [
      state({ filesQueued: 0 }),
      0,
      '[------------------------]  0/10 files  0 B/4.00 MB  0 B/s  ETA --  (0 copied)',
    ],
    [
      state({ filesDone: 5, bytesDone: 1_000_000 }),
      2000,
      '[######------------------]  5/10 files  1.00 MB/4.00 MB  500.0 kB/s  ETA 6s',
    ],
    [
      state({ filesDone: 10, bytesDone: 4_000_000, records: { read: 7, done: 7 } }),
      4000,
      '[########################]  10/10 files  4.00 MB/4.00 MB  1.00 MB/s  ETA 0s  7/7 records',
    ],
    [
      state({
        filesTotal: 0,
        bytesTotal: 0,
        filesQueued: 0,
        records: { read: 12, done: 3 },
        note: 'retrying 9 records (UNAVAILABLE)',
      }),
      1000,
      '3/12 records  - retrying 9 records (UNAVAILABLE)',
    ],
    [
      state({ filesTotal: 2, bytesTotal: 0, filesDone: 1 }),
      1000,
      '[############------------]  1/2 files  0 B/0 B  0 B/s  ETA 0s',
    ],
    [state({ filesTotal: 0, bytesTotal: 0, filesQueued: 0 }), 1000, ''],
  ])('%o after %i ms reads %j', (progress, elapsedMs, line) => {
    expect(renderProgress(progress, elapsedMs)).toBe(line);
  });

  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.00 kB'],
    [71_241, '71.2 kB'],
    [1_000_000, '1.00 MB'],
    [5_500_000_000, '5.50 GB'],
  ])('formats %i bytes as %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it.each([
    [1, '1s'],
    [59_001, '1m00s'],
    [185_000, '3m05s'],
    [7_800_000, '2h10m'],
  ])('formats %i ms as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
