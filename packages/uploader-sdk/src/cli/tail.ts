import { open, opendir, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isValidItemType } from '@sluice/contracts';
import { fileNameFilter } from '../tail/glob.js';
import { DEFAULT_TAIL_OPTIONS } from '../tail/options.js';
import type { TailEvents } from '../tail/tail-events.js';
import { type Tail, tailDirectory, tailFile } from '../tail/tailer.js';
import { createUploader } from '../uploader.js';
import type { Uploader } from '../uploader-api.js';
import {
  EXIT,
  parseServerArgs,
  plural,
  refusedKeyMessage,
  stopCause,
  UsageError,
  unreadableReason,
} from './common.js';
import { useFrugalHeap } from './frugal-heap.js';
import { createLiveLine, type Progress } from './progress.js';
import {
  type LineSample,
  linesPerSecond,
  renderTailEvent,
  renderTailSummary,
  renderTailView,
  summaryDue,
  type TailViewState,
} from './tail-view.js';
import { listenForNotices } from './uploader-notices.js';

/** Usage text of `sluice tail`. */
export const TAIL_USAGE = `sluice tail FILE|DIR… [--type TYPE] [--json] [--include GLOB]… [--exclude GLOB]…
            --endpoint URL [--key-file PATH] [--dir DIR]
  Follows growing files until SIGINT or SIGTERM: each new complete line becomes one record of type
  TYPE (default "${DEFAULT_TAIL_OPTIONS.type}") with data {line, file, offset}, sent exactly once across restarts and
  rotations (checkpoints are kept in DIR/tail). A FILE is followed through rotation; a DIR follows the
  files directly in it (not recursively) whose name matches an --include glob (default *) and no
  --exclude glob, new ones included. --json: parse each line as JSON into data.json (a line that is not
  JSON is dead-lettered). Every path must exist when it starts (exit 1 otherwise, nothing is read).
  On a terminal: a live line (files, lines read, delivered, queued, lines/s, lag); otherwise a line per
  event (opened|rotated|truncated|released|dead) and a summary line at most every 10 s. On SIGINT or
  SIGTERM it stops reading, sends what it can for up to 5 s and exits 130 or 143: what was not delivered
  stays queued in DIR, what was not read is read by the next \`sluice tail\` of the same paths on DIR.
  A second signal ends it at once. A closed stdout stops it as SIGTERM does (exit 141); a refused key
  stops it too (exit 4). A file or directory named twice (through a link too) is followed once. Its heap is kept near what it holds (V8's
  --semi-space-growth-factor=1 --heap-growing-percent=20, set at start); heap-sizing flags of your own,
  on node's command line or in NODE_OPTIONS (e.g. --max-old-space-size=256), are used instead.`;

/** How long a stop waits for deliveries before closing the uploader. */
const STOP_FLUSH_MS = 5000;
/** How often the live line is redrawn. */
const REDRAW_MS = 1000;
/** The rate is taken over this many redraws. */
const RATE_SAMPLES = 5;

/** Why a run stopped. */
type StopReason =
  | { readonly kind: 'signal'; readonly exitCode: number }
  | { readonly kind: 'key'; readonly status: number; readonly fromApi: boolean };

/** A path to follow, checked to exist. */
interface Target {
  readonly path: string;
  readonly kind: 'file' | 'directory';
  /** What it names, `device:inode`: the same for every name of one file or directory. */
  readonly identity: string;
}

/** The globs of an option, checked before DIR is opened. */
function globs(name: string, value: string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  try {
    fileNameFilter(value, []);
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`, { cause: error });
  }
  return value;
}

/** `sluice tail`: follows files and directories until a signal; returns the process exit code. */
export async function tail(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<number> {
  const { values, positionals, dir, endpoint, key } = await parseServerArgs(argv, env, {
    type: { type: 'string' },
    json: { type: 'boolean' },
    include: { type: 'string', multiple: true },
    exclude: { type: 'string', multiple: true },
  });
  if (positionals.length === 0) throw new UsageError('give at least one FILE or DIR to follow');
  const type = values.type ?? DEFAULT_TAIL_OPTIONS.type;
  if (!isValidItemType(type)) {
    throw new UsageError(
      `--type must be 1-128 characters without control characters, got ${JSON.stringify(type)}`,
    );
  }
  const include = globs('include', values.include) ?? DEFAULT_TAIL_OPTIONS.include;
  const exclude = globs('exclude', values.exclude) ?? DEFAULT_TAIL_OPTIONS.exclude;
  const targets = await followedOnce(await checkTargets(positionals), fileNameFilter(include, exclude));
  if (signal.aborted) return signal.reason as number;
  // A tail runs for days: its heap is kept near what it holds (the operator's own sizing flags stand).
  useFrugalHeap(process.execArgv, env.NODE_OPTIONS);
  const uploader = await createUploader({ endpoint, apiKey: key, directory: dir });
  const tails: Tail[] = [];
  try {
    for (const target of targets) {
      const options = { uploader, type, json: values.json === true };
      tails.push(
        target.kind === 'file'
          ? tailFile(target.path, options)
          : tailDirectory(target.path, { ...options, include, exclude }),
      );
    }
  } catch (error) {
    await Promise.all(tails.map((started) => started.stop()));
    await uploader.close();
    if (error instanceof TypeError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
  return new TailRun(uploader, tails, targets, dir).run(signal);
}

/**
 * The targets each followed once. Two tailers of one file would send its lines twice with different `ts`,
 * which the server refuses as conflicts. Compared by device and inode, so a symbolic or hard link counts:
 * - a file or directory named again (under another name) is dropped, the first name kept;
 * - a file that is directly in a directory target under a name its globs match is dropped: the directory's
 *   tail follows it, rotations included.
 * Each one dropped is said on stderr.
 */
async function followedOnce(given: readonly Target[], matches: (name: string) => boolean): Promise<Target[]> {
  const first = new Map<string, Target>();
  const targets: Target[] = [];
  for (const target of given) {
    const kept = first.get(target.identity);
    if (kept === undefined) {
      first.set(target.identity, target);
      targets.push(target);
    } else if (kept.path !== target.path) {
      process.stderr.write(
        `sluice: ${target.path} is the same ${target.kind} as ${kept.path}: followed once, as ${kept.path}\n`,
      );
    }
  }
  const inDirectories = new Map<string, string>();
  for (const target of targets) {
    if (target.kind !== 'directory') continue;
    for (const name of await readdir(target.path)) {
      if (!matches(name)) continue;
      const stats = await stat(join(target.path, name)).catch(() => undefined);
      if (stats?.isFile()) inDirectories.set(`${stats.dev}:${stats.ino}`, target.path);
    }
  }
  const followed: Target[] = [];
  for (const target of targets) {
    const directory = target.kind === 'file' ? inDirectories.get(target.identity) : undefined;
    if (directory === undefined) followed.push(target);
    else process.stderr.write(`sluice: ${target.path} is followed through ${directory}, once\n`);
  }
  return followed;
}

/** Each path's kind; throws naming the first one that cannot be followed (nothing is read then). */
async function checkTargets(paths: readonly string[]): Promise<Target[]> {
  const targets: Target[] = [];
  for (const given of paths) {
    const path = resolve(given);
    let stats: Awaited<ReturnType<typeof stat>>;
    try {
      stats = await stat(path);
    } catch (error) {
      throw new Error(`cannot follow ${given}: ${unreadableReason(error)}; nothing was read`, {
        cause: error,
      });
    }
    if (!stats.isFile() && !stats.isDirectory()) {
      throw new Error(`cannot follow ${given}: neither a file nor a directory; nothing was read`);
    }
    // Readable now, or the tail would start and then report the same failure at every poll.
    try {
      if (stats.isFile()) await (await open(path, 'r')).close();
      else await (await opendir(path)).close();
    } catch (error) {
      throw new Error(`cannot follow ${given}: ${unreadableReason(error)}; nothing was read`, {
        cause: error,
      });
    }
    targets.push({
      path,
      kind: stats.isDirectory() ? 'directory' : 'file',
      identity: `${stats.dev}:${stats.ino}`,
    });
  }
  return targets;
}

/** One `sluice tail`: follows the tailers' and the uploader's events, shows them, stops on a signal. */
class TailRun {
  readonly #uploader: Uploader;
  readonly #tails: readonly Tail[];
  readonly #targets: readonly Target[];
  readonly #directory: string;
  readonly #view: Progress<TailViewState> = createLiveLine((state: TailViewState) => renderTailView(state));
  readonly #stop = new AbortController();
  readonly #samples: LineSample[] = [];
  /** `delivered` at the last redraw. */
  #delivered = 0;
  #dead = 0;
  #note: string | undefined;

  constructor(uploader: Uploader, tails: readonly Tail[], targets: readonly Target[], directory: string) {
    this.#uploader = uploader;
    this.#tails = tails;
    this.#targets = targets;
    this.#directory = directory;
  }

  async run(signal: AbortSignal): Promise<number> {
    const onSignal = (): void => this.#halt({ kind: 'signal', exitCode: signal.reason as number });
    if (signal.aborted) onSignal();
    else signal.addEventListener('abort', onSignal, { once: true });
    this.#listen();
    const files = this.#targets.filter((target) => target.kind === 'file').length;
    const directories = this.#targets.length - files;
    this.#view.line(
      `following ${[
        ...(files > 0 ? [plural(files, 'file')] : []),
        ...(directories > 0 ? [`${directories} ${directories === 1 ? 'directory' : 'directories'}`] : []),
      ].join(' and ')}; queue in ${this.#directory}`,
      process.stderr,
    );
    let summarized = this.#state();
    let summarizedAt = performance.now();
    const ticker = setInterval(() => {
      const state = this.#state(true);
      if (this.#view.live) this.#view.update(state, true);
      else if (summaryDue(summarized, state, performance.now() - summarizedAt)) {
        this.#view.line(renderTailSummary(state));
        summarized = state;
        summarizedAt = performance.now();
      }
    }, REDRAW_MS);
    this.#view.update(this.#state(true), true);
    try {
      await this.#stopped();
    } finally {
      signal.removeEventListener('abort', onSignal);
      clearInterval(ticker);
    }
    // Stop reading first: every line read is then enqueued (durable in DIR) and checkpointed.
    await Promise.all(this.#tails.map((followed) => followed.stop()));
    const reason = this.#stop.signal.reason as StopReason;
    if (reason.kind === 'signal') {
      this.#note = `stopping: delivering what was read (up to ${STOP_FLUSH_MS / 1000}s)`;
      this.#view.update(this.#state(), true);
      await this.#uploader.flush({ timeoutMs: STOP_FLUSH_MS });
    }
    this.#note = undefined;
    // After close: requests in flight have finished, so the summary and the message agree on what stays.
    await this.#uploader.close();
    const final = this.#state();
    this.#view.done(final);
    if (!this.#view.live) process.stdout.write(`${renderTailSummary(final)}\n`);
    process.stderr.write(`sluice: ${this.#stopMessage(reason, final.backlog, final.dead)}\n`);
    return reason.kind === 'signal' ? reason.exitCode : EXIT.queued;
  }

  #listen(): void {
    const uploader = this.#uploader;
    uploader.on('dead', (event) => {
      this.#dead += event.items.length;
      for (const item of event.items) {
        this.#view.line(`dead\t${item.id}\t${item.reason.code}: ${item.reason.message}`);
      }
    });
    listenForNotices(uploader, this.#view, {
      note: () => this.#note,
      setNote: (note) => {
        this.#note = note;
      },
      refused: (status, fromApi) => this.#halt({ kind: 'key', status, fromApi }),
    });
    const shown = ['opened', 'rotated', 'truncated', 'released', 'dead'] as const;
    for (const followed of this.#tails) {
      for (const event of shown) {
        followed.on(event, (payload: TailEvents[typeof event]) => {
          const text = renderTailEvent(event, payload);
          if (text !== undefined) this.#view.line(text);
        });
      }
      followed.on('warning', (warning) => {
        const where = warning.path === undefined ? '' : `${warning.path}: `;
        this.#view.line(`sluice: warning: ${where}${warning.message}`, process.stderr);
      });
      followed.on('error', (error) => {
        this.#view.line(`sluice: ${error.message}`, process.stderr);
      });
    }
  }

  #halt(reason: StopReason): void {
    if (!this.#stop.signal.aborted) this.#stop.abort(reason);
  }

  #stopped(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#stop.signal.aborted) resolve();
      else this.#stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /**
   * The state now; `sample` (each redraw) records the line count for the rate and clears the note once
   * something was delivered since the last redraw.
   */
  #state(sample = false): TailViewState {
    let files = 0;
    let lines = 0;
    let dead = 0;
    let lagBytes = 0;
    for (const followed of this.#tails) {
      const stats = followed.stats();
      files += stats.files.length;
      lines += stats.lines;
      dead += stats.dead;
      for (const file of stats.files) lagBytes += file.lagBytes;
    }
    // Counted from stats(), not 'delivered' events: those are built item by item only for listeners.
    const { delivered, queued } = this.#uploader.stats();
    if (sample) {
      this.#samples.push({ at: performance.now(), lines });
      if (this.#samples.length > RATE_SAMPLES) this.#samples.shift();
      // A delivery since the last redraw ends what a note said (a retry, an unreachable server).
      if (delivered > this.#delivered) this.#note = undefined;
      this.#delivered = delivered;
    }
    return {
      files,
      lines,
      delivered,
      dead: dead + this.#dead,
      backlog: queued,
      lagBytes,
      linesPerSecond: linesPerSecond(this.#samples),
      note: this.#note,
    };
  }

  #stopMessage(reason: StopReason, queued: number, dead: number): string {
    const stays = `${plural(queued, 'item')} ${queued === 1 ? 'stays' : 'stay'} queued in ${this.#directory} and ${queued === 1 ? 'goes' : 'go'} out with the next \`sluice tail\` (or \`sluice send\`) on it`;
    const died = `${plural(dead, 'line')} ${dead === 1 ? 'was' : 'were'} dead-lettered (\`sluice dead-letters --dir ${this.#directory}\` lists ${dead === 1 ? 'it' : 'them'})`;
    const left =
      dead === 0
        ? queued === 0
          ? 'every line read was delivered'
          : stays
        : queued === 0
          ? `${died}, the rest was delivered`
          : `${died}; ${stays}`;
    const unread = 'lines not read yet are read by the next `sluice tail` of the same paths';
    switch (reason.kind) {
      case 'key':
        return `${refusedKeyMessage(reason.status, reason.fromApi)}. Stopped: ${left}; ${unread}`;
      case 'signal':
        return `${stopCause(reason.exitCode)}; ${left}; ${unread}`;
    }
  }
}
