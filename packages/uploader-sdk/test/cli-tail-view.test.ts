import { describe, expect, it } from 'vitest';
import {
  linesPerSecond,
  renderTailEvent,
  renderTailSummary,
  renderTailView,
  summaryDue,
  type TailViewState,
} from '../src/cli/tail-view.js';

const state = (overrides: Partial<TailViewState>): TailViewState => ({
  files: 2,
  lines: 1500,
  delivered: 1490,
  dead: 0,
  backlog: 10,
  lagBytes: 2500,
  linesPerSecond: 12.345,
  note: undefined,
  ...overrides,
});

describe('the sluice tail view', () => {
  it.each([
    [state({}), '2 files  1500 read  1490 delivered  10 queued  12.3 lines/s  lag 2.50 kB'],
    [
      state({ files: 1, dead: 3, note: 'retrying 10 records (NETWORK_ERROR)' }),
      '1 file  1500 read  1490 delivered  3 dead  10 queued  12.3 lines/s  lag 2.50 kB  - retrying 10 records (NETWORK_ERROR)',
    ],
    [
      state({ files: 0, lines: 0, delivered: 0, backlog: 0, lagBytes: 0, linesPerSecond: 0 }),
      '0 files  0 read  0 delivered  0 queued  0.0 lines/s  lag 0 B',
    ],
  ])('%o reads %j', (view, line) => {
    expect(renderTailView(view)).toBe(line);
  });

  it('the plain summary line has the same counts, tab-led and comma-separated, without the note', () => {
    expect(renderTailSummary(state({ note: 'x' }))).toBe(
      'tail\t2 files, 1500 read, 1490 delivered, 10 queued, 12.3 lines/s, lag 2.50 kB',
    );
  });

  it('a plain summary is due every 10 s at most, and only when a count moved', () => {
    const before = state({});
    expect(summaryDue(before, state({ lines: 1501 }), 9_999)).toBe(false);
    expect(summaryDue(before, state({ lines: 1501 }), 10_000)).toBe(true);
    expect(summaryDue(before, state({ backlog: 0 }), 60_000)).toBe(true);
    expect(summaryDue(before, state({ linesPerSecond: 0, note: 'x' }), 60_000)).toBe(false);
  });

  it('the rate is over the samples given, 0 without two apart in time', () => {
    expect(linesPerSecond([])).toBe(0);
    expect(linesPerSecond([{ at: 5, lines: 10 }])).toBe(0);
    expect(
      linesPerSecond([
        { at: 5, lines: 10 },
        { at: 5, lines: 20 },
      ]),
    ).toBe(0);
    expect(
      linesPerSecond([
        { at: 1000, lines: 10 },
        { at: 2000, lines: 15 },
        { at: 3000, lines: 30 },
      ]),
    ).toBe(10);
  });

  it('prints a line per event of a file, nothing for warnings and errors (they go to stderr)', () => {
    expect(renderTailEvent('opened', { path: '/l/a.log', fingerprint: 'f', generation: 0, offset: 0 })).toBe(
      'opened\t/l/a.log\tfrom the start',
    );
    expect(renderTailEvent('opened', { path: '/l/a.log', fingerprint: 'f', generation: 0, offset: 42 })).toBe(
      'opened\t/l/a.log\tfrom byte 42',
    );
    expect(renderTailEvent('rotated', { path: '/l/a.log', fingerprint: 'f', reason: 'renamed' })).toBe(
      'rotated\t/l/a.log\trenamed: the old file is read to its end',
    );
    expect(renderTailEvent('truncated', { path: '/l/a.log', fingerprint: 'f', generation: 1 })).toBe(
      'truncated\t/l/a.log\ttruncated: read again from the start',
    );
    expect(
      renderTailEvent('truncated', {
        path: '/l/a.log',
        fingerprint: 'f',
        generation: 1,
        reason: 'rewritten',
      }),
    ).toBe('truncated\t/l/a.log\trewritten: read again from the start');
    expect(renderTailEvent('released', { path: '/l/a.log.1', fingerprint: 'f' })).toBe(
      'released\t/l/a.log.1',
    );
    expect(
      renderTailEvent('dead', {
        id: 'f.0:7',
        file: '/l/a.log',
        offset: 7,
        reason: { code: 'INVALID_JSON', message: 'not JSON' },
      }),
    ).toBe('dead\tf.0:7\t/l/a.log:7\tINVALID_JSON: not JSON');
    expect(renderTailEvent('warning', { message: 'odd' })).toBeUndefined();
  });
});
