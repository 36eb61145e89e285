/** Where `sluice send` stands, as the progress view shows it. */
export interface SendProgressState {
  /** Files counted before anything was queued; fixed for the whole run. */
  readonly filesTotal: number;
  readonly bytesTotal: number;
  /** Files copied into the queue so far (or refused). */
  readonly filesQueued: number;
  /** Files delivered, dead-lettered or refused, and their bytes. */
  readonly filesDone: number;
  readonly bytesDone: number;
  /** Records read from the `--records` input, and settled (delivered or dead); undefined without one. */
  readonly records: { readonly read: number; readonly done: number } | undefined;
  /** What is holding things up, e.g. `retrying 3 (UNAVAILABLE)`. */
  readonly note: string | undefined;
}

/** Where the CLI writes: a live progress line on a terminal, plain lines otherwise. */
export interface Progress<S = SendProgressState> {
  /** True when a live line is shown (stderr is a terminal). */
  readonly live: boolean;
  /** Redraws the live line (at most every 100 ms unless `force`); does nothing on plain output. */
  update(state: S, force?: boolean): void;
  /** Prints a permanent line (to stdout, or `to`), keeping the live line below it. */
  line(text: string, to?: NodeJS.WriteStream): void;
  /** Draws the live line a last time and ends it with a newline. */
  done(state: S): void;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

/** `bytes` as `999 B`, `1.5 kB`, `12.3 MB`… (powers of 1000, like `ls --si`). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** `ms` as `45s`, `3m05s`, `2h10m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}m`;
}

/**
 * The progress line of `state`, `elapsedMs` after sending started: a bar over the bytes, files and bytes
 * done of their totals, the rate and the time left. Pure.
 */
export function renderProgress(state: SendProgressState, elapsedMs: number): string {
  const parts: string[] = [];
  if (state.filesTotal > 0) {
    const fraction =
      state.bytesTotal === 0 ? state.filesDone / state.filesTotal : state.bytesDone / state.bytesTotal;
    const filled = Math.min(BAR_WIDTH, Math.floor(fraction * BAR_WIDTH));
    const rate = elapsedMs > 0 ? (state.bytesDone * 1000) / elapsedMs : 0;
    const left = state.bytesTotal - state.bytesDone;
    const eta = left <= 0 ? '0s' : rate > 0 ? formatDuration((left / rate) * 1000) : '--';
    parts.push(
      `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`,
      `${state.filesDone}/${state.filesTotal} files`,
      `${formatBytes(state.bytesDone)}/${formatBytes(state.bytesTotal)}`,
      `${formatBytes(Math.round(rate))}/s`,
      `ETA ${eta}`,
    );
    if (state.filesQueued < state.filesTotal) parts.push(`(${state.filesQueued} copied)`);
  }
  if (state.records !== undefined) parts.push(`${state.records.done}/${state.records.read} records`);
  if (state.note !== undefined) parts.push(`- ${state.note}`);
  return parts.join('  ');
}

/** A progress view of `sluice send` on `stream` (stderr): live when it is a terminal. */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  return createLiveLine(renderProgress, stream);
}

/**
 * A live line on `stream` (stderr) when it is a terminal, drawn by `render` from a state and the ms since
 * it was created; permanent lines go above it. Plain lines only otherwise.
 */
export function createLiveLine<S>(
  render: (state: S, elapsedMs: number) => string,
  stream: NodeJS.WriteStream = process.stderr,
): Progress<S> {
  const live = stream.isTTY === true;
  const startedAt = performance.now();
  let shown: string | undefined;
  let drawnAt = 0;
  const draw = (text: string): void => {
    if (text === '') return;
    const width = stream.columns > 1 ? stream.columns - 1 : 79;
    stream.write(`\r\x1b[2K${text.slice(0, width)}`);
    shown = text;
    drawnAt = performance.now();
  };
  const clear = (): void => {
    if (shown !== undefined) stream.write('\r\x1b[2K');
  };
  return {
    live,
    update(state, force = false) {
      if (!live || (!force && performance.now() - drawnAt < REDRAW_MS)) return;
      draw(render(state, performance.now() - startedAt));
    },
    line(text, to = process.stdout) {
      if (!live) {
        to.write(`${text}\n`);
        return;
      }
      clear();
      to.write(`${text}\n`);
      if (shown !== undefined) draw(shown);
    },
    done(state) {
      if (!live) return;
      draw(render(state, performance.now() - startedAt));
      if (shown !== undefined) stream.write('\n');
      shown = undefined;
    },
  };
}
