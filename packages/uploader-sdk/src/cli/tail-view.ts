import type { TailEvents } from '../tail/tail-events.js';
import { plural } from './common.js';
import { formatBytes } from './progress.js';

/** Where `sluice tail` stands, as its live line and its summary lines show it. */
export interface TailViewState {
  /** Files followed now (draining rotated-away ones included). */
  readonly files: number;
  /** Lines read and enqueued (or dead-lettered) since the start. */
  readonly lines: number;
  /** Items the server acknowledged (stored or duplicate) since the start. */
  readonly delivered: number;
  /** Lines dead-lettered since the start, by the tailer (not JSON) or the uploader (conflict, rejected). */
  readonly dead: number;
  /** Items queued in DIR, not yet delivered. */
  readonly backlog: number;
  /** Bytes of the followed files not yet read and enqueued. */
  readonly lagBytes: number;
  /** Lines read per second lately. */
  readonly linesPerSecond: number;
  /** What is holding things up, e.g. `retrying 3 records (UNAVAILABLE)`. */
  readonly note: string | undefined;
}

/** A count of lines read at a moment (`at`, ms). */
export interface LineSample {
  readonly at: number;
  readonly lines: number;
}

/** Lines per second between the first and the last of `samples`; 0 without two samples apart in time. Pure. */
export function linesPerSecond(samples: readonly LineSample[]): number {
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined || last.at <= first.at) return 0;
  return Math.max(0, ((last.lines - first.lines) * 1000) / (last.at - first.at));
}

function parts(state: TailViewState): string[] {
  return [
    plural(state.files, 'file'),
    `${state.lines} read`,
    `${state.delivered} delivered`,
    ...(state.dead > 0 ? [`${state.dead} dead`] : []),
    `${state.backlog} queued`,
    `${state.linesPerSecond.toFixed(1)} lines/s`,
    `lag ${formatBytes(state.lagBytes)}`,
  ];
}

/** The live line of `sluice tail` on a terminal. Pure. */
export function renderTailView(state: TailViewState): string {
  const line = parts(state).join('  ');
  return state.note === undefined ? line : `${line}  - ${state.note}`;
}

/** The summary line of `sluice tail` on plain output (every 10 s when something moved, and at the end). Pure. */
export function renderTailSummary(state: TailViewState): string {
  return `tail\t${parts(state).join(', ')}`;
}

/** The line `sluice tail` prints for a tailer event, or undefined for events it does not print. Pure. */
export function renderTailEvent<E extends keyof TailEvents>(
  event: E,
  payload: TailEvents[E],
): string | undefined {
  switch (event) {
    case 'opened': {
      const { path, offset } = payload as TailEvents['opened'];
      return `opened\t${path}\t${offset === 0 ? 'from the start' : `from byte ${offset}`}`;
    }
    case 'rotated': {
      const { path, reason } = payload as TailEvents['rotated'];
      return reason === 'copied'
        ? `rotated\t${path}\tcopied: the copy of a truncated file, read on from where the file was read to`
        : `rotated\t${path}\t${reason}: the old file is read to its end`;
    }
    case 'truncated': {
      const { path, reason } = payload as TailEvents['truncated'];
      return `truncated\t${path}\t${reason ?? 'truncated'}: read again from the start`;
    }
    case 'released': {
      const { path } = payload as TailEvents['released'];
      return `released\t${path}`;
    }
    case 'dead': {
      const { id, file, offset, reason } = payload as TailEvents['dead'];
      return `dead\t${id}\t${file}:${offset}\t${reason.code}: ${reason.message}`;
    }
    default:
      return undefined;
  }
}

/** Plain output prints a summary at most this often, and only when something moved. */
export const SUMMARY_MS = 10_000;

/**
 * True when plain output prints a summary: {@link SUMMARY_MS} passed since the last one (`sinceMs`) and a
 * count it shows moved (the rate alone does not count). Pure.
 */
export function summaryDue(last: TailViewState, now: TailViewState, sinceMs: number): boolean {
  if (sinceMs < SUMMARY_MS) return false;
  return (
    last.files !== now.files ||
    last.lines !== now.lines ||
    last.delivered !== now.delivered ||
    last.dead !== now.dead ||
    last.backlog !== now.backlog ||
    last.lagBytes !== now.lagBytes
  );
}
