import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { lstat, open, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isUploaderClosedError } from '../errors.js';
import { TypedEmitter } from '../events.js';
import { uploaderInternals } from '../uploader-internals.js';
import { CheckpointStore } from './checkpoint-store.js';
import { readFingerprint, readIdentity } from './fingerprint.js';
import { COPY_WINDOW_MS, type FollowContext, FollowedFile, type FollowRole } from './followed-file.js';
import { fileNameFilter } from './glob.js';
import {
  type ResolvedTailOptions,
  resolveTailOptions,
  type TailDirectoryOptions,
  type TailOptions,
} from './options.js';
import { RecordSink, TailStoppedError } from './record-sink.js';
import type { TailEvents, TailListener } from './tail-events.js';

/** A directory is listed again on a watch event, but not more often than this. */
const WATCH_DISCOVERY_MS = 50;

/** Bytes read from a file at a time, into one buffer per tailer. */
const READ_BUFFER_BYTES = 256 * 1024;
/** The same read failure of the same file is reported again after this long at the soonest. */
const REPEAT_ERROR_MS = 60_000;

/** Where one file stands. */
export interface TailFileStats {
  /** Where the file is now. */
  readonly path: string;
  /** The path it had when first seen (its records' `file`). */
  readonly file: string | undefined;
  /** Undefined until its first line is complete. */
  readonly fingerprint: string | undefined;
  readonly generation: number | undefined;
  readonly state: 'following' | 'draining';
  /** Whether a descriptor is open on it. */
  readonly open: boolean;
  /** Bytes read since the tailer started (bytes read again after a failure count twice). */
  readonly bytesRead: number;
  /** Records enqueued or dead-lettered since the tailer started. */
  readonly lines: number;
  /** The checkpoint: every line before this byte offset is durably enqueued. */
  readonly offset: number;
  /** Where reading stands (past `offset` while lines are being enqueued or a record is pending). */
  readonly position: number;
  /** Size last seen. */
  readonly size: number;
  /** `size - offset`: bytes not yet durably enqueued. */
  readonly lagBytes: number;
}

/** A snapshot of a tailer. */
export interface TailStats {
  readonly files: readonly TailFileStats[];
  /** Records enqueued or dead-lettered since start, all files together. */
  readonly lines: number;
  /** Lines dead-lettered since start. */
  readonly dead: number;
  /** True once `stop()` was called or the tailer stopped on its own (its uploader was closed). */
  readonly stopped: boolean;
}

/** A running tailer, returned by {@link tailFile} and {@link tailDirectory}. */
export interface Tail {
  /**
   * Stops cleanly: the lines being enqueued finish (lines waiting for room in a full queue are left for
   * the next start), checkpoints are saved, descriptors, watchers and timers are released. Idempotent.
   */
  stop(): Promise<void>;
  /** Per-file reading state. */
  stats(): TailStats;
  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof TailEvents>(event: E, listener: TailListener<E>): () => void;
  /** Adds a listener that runs once. */
  once<E extends keyof TailEvents>(event: E, listener: TailListener<E>): () => void;
  /** Removes a listener. */
  off<E extends keyof TailEvents>(event: E, listener: TailListener<E>): void;
}

/** Checkpoint files in use in this process: two tailers on one target would overwrite each other's. */
const checkpointsInUse = new Set<string>();

/** What a tailer follows. */
type Target =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'directory'; readonly path: string; readonly matches: (name: string) => boolean };

/**
 * Follows a growing file: one record per complete line, each enqueued on `options.uploader` exactly once
 * across restarts, rotations and crashes. Starts at once; `stop()` stops it.
 * @throws {TypeError} for bad options, or when no checkpoint directory is known.
 * @throws {Error} when another tailer of this process already follows `path` with the same checkpoints.
 */
export function tailFile(path: string, options: TailOptions): Tail {
  if (typeof path !== 'string' || path === '') {
    throw new TypeError(`Expected \`path\` to be a non-empty path, got ${JSON.stringify(path)}`);
  }
  return new Tailer({ kind: 'file', path: resolve(path) }, resolveTailOptions(options));
}

/**
 * Follows every file directly in `directory` whose name matches `include` and not `exclude`, new ones
 * included, each like {@link tailFile}. Starts at once; `stop()` stops it.
 * @throws {TypeError} for bad options or globs, or when no checkpoint directory is known.
 * @throws {Error} when another tailer of this process already follows `directory` with the same checkpoints.
 */
export function tailDirectory(directory: string, options: TailDirectoryOptions): Tail {
  if (typeof directory !== 'string' || directory === '') {
    throw new TypeError(`Expected \`directory\` to be a non-empty path, got ${JSON.stringify(directory)}`);
  }
  const resolved = resolveTailOptions(options);
  const matches = fileNameFilter(resolved.include, resolved.exclude);
  return new Tailer({ kind: 'directory', path: resolve(directory), matches }, resolved);
}

function checkpointPath(target: Target, options: ResolvedTailOptions): string {
  let directory = options.checkpointDirectory;
  if (directory === undefined) {
    const internals = uploaderInternals(options.uploader);
    if (internals === undefined) {
      throw new TypeError(
        'Expected `checkpointDirectory` to be set: the uploader was not made by createUploader, so its directory is unknown',
      );
    }
    directory = join(internals.directory, 'tail');
  }
  const hash = createHash('sha256').update(`${target.kind}\0${target.path}`).digest('hex').slice(0, 16);
  const name = basename(target.path)
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 64);
  return join(resolve(directory), `${target.kind}-${name}-${hash}.json`);
}

class Tailer implements Tail {
  readonly #target: Target;
  readonly #options: ResolvedTailOptions;
  readonly #events = new TypedEmitter<TailEvents>();
  readonly #abort = new AbortController();
  readonly #checkpointPath: string;
  readonly #buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  readonly #followers: FollowedFile[] = [];
  readonly #done: Promise<void>;
  #checkpoints: CheckpointStore | undefined;
  #current: FollowedFile | undefined;
  readonly #watchers: FSWatcher[] = [];
  #wake: (() => void) | undefined;
  #woken = false;
  #openFiles = 0;
  #dirty = false;
  /** A save that lines about to be shipped depend on (invariant 3) has not succeeded yet. */
  #mustSave = false;
  #lastSaveAt = 0;
  #lastDiscoveryAt = 0;
  /** The latest truncation whose copy was looked for (see `#findCopies`). */
  #copiesLookedForAt = 0;
  #lastExpiryAt = Date.now();
  #dead = 0;
  #stopped = false;

  constructor(target: Target, options: ResolvedTailOptions) {
    this.#target = target;
    this.#options = options;
    this.#checkpointPath = checkpointPath(target, options);
    if (checkpointsInUse.has(this.#checkpointPath)) {
      throw new Error(
        `${target.path} is already tailed in this process with checkpoints ${this.#checkpointPath}`,
      );
    }
    checkpointsInUse.add(this.#checkpointPath);
    this.#done = this.#run();
  }

  on<E extends keyof TailEvents>(event: E, listener: TailListener<E>): () => void {
    return this.#events.on(event, listener);
  }

  once<E extends keyof TailEvents>(event: E, listener: TailListener<E>): () => void {
    return this.#events.once(event, listener);
  }

  off<E extends keyof TailEvents>(event: E, listener: TailListener<E>): void {
    this.#events.off(event, listener);
  }

  stop(): Promise<void> {
    if (!this.#abort.signal.aborted) this.#abort.abort(new TailStoppedError());
    this.#wake?.();
    // The loop's own pending I/O keeps the process alive until this settles.
    return this.#done;
  }

  stats(): TailStats {
    const files = this.#followers.map((file): TailFileStats => {
      const entry = file.entry;
      const offset = entry?.offset ?? 0;
      return {
        path: file.path,
        file: entry?.file,
        fingerprint: entry?.fingerprint,
        generation: entry?.generation,
        state: file.role === 'following' ? 'following' : 'draining',
        open: file.isOpen,
        bytesRead: file.bytesRead,
        lines: file.lines,
        offset,
        position: file.position,
        size: file.knownSize,
        lagBytes: Math.max(0, file.knownSize - offset),
      };
    });
    return {
      files,
      lines: this.#lineCount,
      dead: this.#dead,
      stopped: this.#stopped || this.#abort.signal.aborted,
    };
  }

  #lineCount = 0;
  #context_: FollowContext | undefined;
  #discovering: Promise<void> = Promise.resolve();
  #queuedDiscovery: Promise<void> | undefined;
  /** Where the next round starts in `#followers`. */
  #cursor = 0;
  /** Files prepared in this round: never closed to make room for another. */
  readonly #inRound = new Set<FollowedFile>();
  /** The last warning about the target itself (not a file, not a listable directory), until it changes. */
  #targetProblem: string | undefined;
  /** Failures tried again at every poll (a file's read, the checkpoint directory): said when they are news. */
  readonly #reported = new RepeatFilter<object>();

  get #maxOpen(): number {
    return this.#target.kind === 'directory' ? this.#options.maxOpenFiles : Number.POSITIVE_INFINITY;
  }

  async #run(): Promise<void> {
    try {
      const checkpoints = await this.#openCheckpoints();
      this.#checkpoints = checkpoints;
      const context = this.#context(checkpoints);
      this.#context_ = context;
      await this.#startWatchers();
      // Neither failing stops the tailer: files are looked for again at every poll.
      await this.#discover(context).catch((error: unknown) => this.#error(error));
      await this.#recoverRotated(context).catch((error: unknown) => this.#error(error));
      await this.#loop(context);
    } catch (error) {
      if (!(error instanceof TailStoppedError)) this.#error(error);
    } finally {
      await this.#shutdown();
    }
  }

  /**
   * Loads the checkpoints. A checkpoint directory that cannot be created (a file in its place, EACCES,
   * ENOSPC) is reported as an `error` (again when the error changes or after a minute) and tried again at
   * every poll: until then nothing is read, since
   * nothing read could be checkpointed (and where reading stood is unknown).
   */
  async #openCheckpoints(): Promise<CheckpointStore> {
    for (;;) {
      try {
        return await CheckpointStore.open(this.#checkpointPath, (message, cause) =>
          this.#warn(message, undefined, cause),
        );
      } catch (error) {
        if (this.#abort.signal.aborted) throw new TailStoppedError();
        const message = `could not open the checkpoint directory of ${this.#checkpointPath}: ${(error as Error).message}; nothing is read until it can be, trying again`;
        if (this.#reported.isNews(this, message)) this.#error(new Error(message, { cause: error }));
      }
      await this.#sleep(this.#options.pollIntervalMs);
      if (this.#abort.signal.aborted) throw new TailStoppedError();
    }
  }

  #context(checkpoints: CheckpointStore): FollowContext {
    const sink = new RecordSink({
      uploader: this.#options.uploader,
      internals: uploaderInternals(this.#options.uploader),
      type: this.#options.type,
      json: this.#options.json,
      id: this.#options.id,
      signal: this.#abort.signal,
      dead: (event) => {
        this.#dead += 1;
        this.#events.emit('dead', event);
      },
      warn: (message, cause) => this.#warn(message, undefined, cause),
    });
    return {
      options: this.#options,
      checkpoints,
      sink,
      buffer: this.#buffer,
      copies: this.#target.kind === 'directory',
      emit: (event, payload) => this.#events.emit(event, payload),
      pathsOf: (ino) =>
        this.#followers.filter((file) => file.ino === ino && !file.done).map((file) => file.path),
      acquire: (file) => this.#acquire(file),
      released: () => {
        this.#openFiles -= 1;
      },
      dirty: () => {
        this.#dirty = true;
      },
    };
  }

  async #loop(context: FollowContext): Promise<void> {
    const { pollIntervalMs, checkpointIntervalMs, idleTimeoutMs, checkpointTtlMs } = this.#options;
    while (!this.#abort.signal.aborted) {
      const now = Date.now();
      const sinceDiscovery = now - this.#lastDiscoveryAt;
      if (
        this.#target.kind === 'file' ||
        sinceDiscovery >= pollIntervalMs ||
        (this.#woken && sinceDiscovery >= WATCH_DISCOVERY_MS)
      ) {
        this.#woken = false;
        // A failed listing or stat (EMFILE, EACCES, EIO …) is reported and tried again at the next poll.
        await this.#discover(context).catch((error: unknown) =>
          this.#error(new Error(`could not look for files: ${(error as Error).message}`, { cause: error })),
        );
      }
      const ready: FollowedFile[] = [];
      let mustSave = false;
      // Round-robin from where the last round stopped; no more files per round than may be open at once.
      const count = this.#followers.length;
      const order = [
        ...this.#followers.slice(this.#cursor % Math.max(count, 1)),
        ...this.#followers.slice(0, this.#cursor % Math.max(count, 1)),
      ];
      let visited = 0;
      for (const file of order) {
        if (this.#abort.signal.aborted || ready.length >= this.#maxOpen) break;
        visited += 1;
        if (!file.wantsTurn) {
          const idle = Date.now() - file.lastActiveAt >= idleTimeoutMs;
          if (this.#target.kind === 'directory' && file.isOpen && file.role === 'following' && idle) {
            await file
              .close()
              .catch((error: unknown) => this.#warn(`could not close ${file.path}`, file.path, error));
          }
          continue;
        }
        this.#inRound.add(file);
        const outcome = await this.#guard(file, () => file.prepare());
        if (outcome === 'lost') {
          await this.#relocate(file).catch((error: unknown) =>
            this.#error(
              new Error(`could not look for ${file.path}: ${(error as Error).message}`, { cause: error }),
            ),
          );
        }
        if (outcome === 'done') this.#forget(file);
        if (outcome === 'save') mustSave = true;
        if (outcome === 'save' || outcome === 'ready') ready.push(file);
      }
      this.#cursor = count === 0 ? 0 : (this.#cursor + visited) % count;
      // New checkpoints and renewed timestamps are durable before any line that carries them is shipped:
      // while such a save fails (a full disk), nothing is shipped; the save is tried again every poll.
      if (mustSave) this.#mustSave = true;
      const shippable = !this.#mustSave || (await this.#save());
      // Files left for the next round because of the descriptor cap: no sleep before it.
      let more = shippable && visited < order.length;
      for (const file of shippable ? ready : []) {
        if (this.#abort.signal.aborted) break;
        const before = file.lines;
        const result = await this.#guard(file, () => file.step());
        this.#lineCount += file.lines - before;
        if (result === 'more') more = true;
        if (result === 'done') this.#forget(file);
      }
      this.#inRound.clear();
      await this.#findCopies(context).catch((error: unknown) =>
        this.#error(new Error(`could not look for copies: ${(error as Error).message}`, { cause: error })),
      );
      if (this.#dirty && Date.now() - this.#lastSaveAt >= checkpointIntervalMs) await this.#save();
      if (Date.now() - this.#lastExpiryAt >= Math.min(checkpointTtlMs, 60_000)) {
        this.#lastExpiryAt = Date.now();
        this.#touchPresent(context.checkpoints, this.#lastExpiryAt);
        const truncatedBefore = Date.now() - Math.min(COPY_WINDOW_MS, checkpointTtlMs);
        if (context.checkpoints.expire(Date.now() - checkpointTtlMs, truncatedBefore) > 0) {
          this.#dirty = true;
          await this.#save();
        }
      }
      if (!more) {
        // A watch event asks for a discovery, but a busy directory lists at most every WATCH_DISCOVERY_MS.
        const wait = this.#woken
          ? Math.max(0, WATCH_DISCOVERY_MS - (Date.now() - this.#lastDiscoveryAt))
          : pollIntervalMs;
        await this.#sleep(Math.min(wait, pollIntervalMs));
      }
    }
  }

  /**
   * Runs one file's turn; a failure is reported and the file starts again from its checkpoint at the next
   * poll. Stopping, and a closed uploader, end the loop.
   */
  async #guard<T>(file: FollowedFile, turn: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await turn();
      this.#reported.forget(file);
      return result;
    } catch (error) {
      if (error instanceof TailStoppedError || isUploaderClosedError(error)) throw error;
      const message = `could not read ${file.path}: ${(error as Error).message}`;
      // Retried at every poll: one unreadable file must not flood the log several times a second.
      if (this.#reported.isNews(file, message)) this.#error(new Error(message, { cause: error }));
      await file.recover();
      return undefined;
    }
  }

  /**
   * Writes the checkpoints. A failed write (ENOSPC, EIO …) is reported as an `error` and leaves them dirty
   * (and a save lines wait for still required): the loop goes on and tries again. True once written.
   */
  async #save(): Promise<boolean> {
    this.#dirty = false;
    this.#lastSaveAt = Date.now();
    const required = this.#mustSave;
    this.#mustSave = false;
    try {
      await this.#checkpoints?.save();
      return true;
    } catch (error) {
      this.#dirty = true;
      if (required) this.#mustSave = true;
      this.#error(
        new Error(
          `could not write the checkpoint file ${this.#checkpointPath}: ${(error as Error).message}; trying again`,
          { cause: error },
        ),
      );
      return false;
    }
  }

  #forget(file: FollowedFile): void {
    const index = this.#followers.indexOf(file);
    if (index >= 0) this.#followers.splice(index, 1);
    if (this.#current === file) this.#current = undefined;
  }

  #follow(path: string, ino: number, size: number, role: FollowRole, context: FollowContext): FollowedFile {
    const file = new FollowedFile(context, path, ino, size, role);
    this.#followers.push(file);
    return file;
  }

  /** Discoveries run one at a time: the loop's and, for a single file, those of watch events. */
  #discover(context: FollowContext): Promise<void> {
    // One discovery waiting to start covers every event before it starts: a busy log's watch events
    // (one per append) never queue up a stat each.
    if (this.#queuedDiscovery !== undefined) return this.#queuedDiscovery;
    const run = this.#discovering.then(async () => {
      this.#queuedDiscovery = undefined;
      this.#lastDiscoveryAt = Date.now();
      if (this.#target.kind === 'file') await this.#discoverFile(this.#target.path, context);
      else await this.#discoverDirectory(this.#target.path, this.#target.matches, context);
    });
    this.#queuedDiscovery = run;
    this.#discovering = run.catch(() => undefined);
    return run;
  }

  /**
   * A watch event on a single file's directory: the followed name is looked at at once, not when the loop
   * next gets to it, so that a file rotated away quickly (several rotations within one busy turn) is
   * still seen; once seen it is found again by its inode wherever it was renamed to.
   */
  #watchEvent(): void {
    this.#woken = true;
    this.#wake?.();
    const context = this.#context_;
    if (this.#target.kind !== 'file' || context === undefined || this.#abort.signal.aborted) return;
    this.#discover(context).catch((error: unknown) => this.#error(error));
  }

  async #discoverFile(path: string, context: FollowContext): Promise<void> {
    const found = await statFile(path);
    this.#noteTargetProblem(found === undefined ? await notAFile(path) : undefined);
    const current = this.#current;
    if (
      current !== undefined &&
      found !== undefined &&
      current.ino === found.ino &&
      !(await current.unlinked())
    ) {
      current.knownSize = found.size;
      return;
    }
    if (current !== undefined && current.role === 'following') {
      this.#drain(current, found === undefined ? 'deleted' : 'renamed', path);
    }
    this.#current =
      found === undefined ? undefined : this.#follow(path, found.ino, found.size, 'following', context);
  }

  /** Whether `file`'s own name is still in the listing and still leads to inode `ino` (a hard link). */
  async #otherName(file: FollowedFile, ino: number, listed: ReadonlySet<string>): Promise<boolean> {
    if (this.#target.kind !== 'directory' || dirname(file.path) !== this.#target.path) return false;
    if (!listed.has(basename(file.path))) return false;
    return (await statFile(file.path))?.ino === ino;
  }

  async #discoverDirectory(
    directory: string,
    matches: (name: string) => boolean,
    context: FollowContext,
  ): Promise<void> {
    let names: string[];
    try {
      names = await readdir(directory);
    } catch (error) {
      this.#noteTargetProblem(
        `cannot list ${directory} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); trying again at every poll`,
        error,
      );
      return;
    }
    this.#noteTargetProblem(undefined);
    const seen = new Set<FollowedFile>();
    // Two names of one inode in a listing are one file (a hard link): followed once, under one name.
    const seenInodes = new Set<number>();
    const listed = new Set(names);
    const now = Date.now();
    const byIno = new Map<number, FollowedFile[]>();
    for (const file of this.#followers) {
      const list = byIno.get(file.ino);
      if (list === undefined) byIno.set(file.ino, [file]);
      else list.push(file);
    }
    for (const name of names) {
      if (!matches(name)) continue;
      const path = join(directory, name);
      const found = await statFile(path);
      if (found === undefined || seenInodes.has(found.ino)) continue;
      seenInodes.add(found.ino);
      const followers = byIno.get(found.ino) ?? [];
      // Being drained (rotated within the directory): followed again once let go.
      if (followers.some((f) => f.role !== 'following' && !f.done)) continue;
      let file = followers.find((f) => f.role === 'following' && !seen.has(f));
      if (file !== undefined && (await file.unlinked())) {
        // Deleted and its inode reused by a new file within one poll: the old one is drained apart.
        this.#drain(file, 'deleted');
        file = undefined;
      } else if (
        file !== undefined &&
        file.path !== path &&
        (await this.#otherName(file, found.ino, listed))
      ) {
        // Listed under its followed name too (later in this listing): that name is the one it is followed by.
        seenInodes.delete(found.ino);
        continue;
      } else if (file !== undefined && file.path !== path) {
        // Renamed within the directory (app.log to app.log.1 with both matching): a rotation. It is
        // drained, its unterminated last line sent after rotateWaitMs, then followed again under its name.
        this.#drain(file, 'renamed');
        file.path = path;
        file.knownSize = found.size;
        seen.add(file);
        continue;
      }
      if (file === undefined) file = this.#follow(path, found.ino, found.size, 'following', context);
      else {
        file.knownSize = found.size;
      }
      if (file.entry !== undefined) file.entry.seenAt = now;
      seen.add(file);
    }
    const lost = new Map<number, FollowedFile>();
    for (const file of [...this.#followers]) {
      if (file.role !== 'following' || seen.has(file)) continue;
      if (file.isOpen) {
        // Renamed out of the pattern or deleted: what it still holds is read before it is let go.
        this.#drain(file, 'renamed');
      } else {
        this.#forget(file);
        if (file.entry !== undefined) lost.set(file.ino, file);
      }
    }
    if (lost.size > 0) await this.#findRenamed(directory, matches, lost, context);
  }

  /**
   * Closed files (idle, or over the descriptor cap) that left the pattern: one renamed in the directory
   * may have grown before it was renamed, so it is looked for by inode and drained from its checkpoint.
   */
  async #findRenamed(
    directory: string,
    matches: (name: string) => boolean,
    lost: Map<number, FollowedFile>,
    context: FollowContext,
  ): Promise<void> {
    // Listed again: the rename may have happened since the listing that missed the file.
    const names = await readdir(directory).catch(() => [] as string[]);
    for (const name of names) {
      if (matches(name)) continue;
      const path = join(directory, name);
      const found = await statFile(path);
      const file = found === undefined ? undefined : lost.get(found.ino);
      if (found === undefined || file === undefined) continue;
      lost.delete(found.ino);
      // Grown, or shrunk (truncated: an offset beyond the end is never trusted, it is read as a new generation).
      if (found.size !== file.entry!.offset) {
        this.#follow(path, found.ino, found.size, 'recovering', context);
        this.#events.emit('rotated', {
          path: file.path,
          fingerprint: file.entry?.fingerprint,
          reason: 'renamed',
        });
      }
      if (lost.size === 0) return;
    }
  }

  /**
   * Files rotated while the tailer was down: a file under another name in the watched directory whose
   * fingerprint has a checkpoint (looked for among the files with the inode of one), and more or fewer
   * bytes than the checkpoint covers, is drained from its checkpoint (fewer: read again as a new
   * generation). An entry is matched by fingerprint only: the inode of one that is now another file (a
   * truncation gave it a new first line) says nothing about how much of that file was read.
   */
  async #recoverRotated(context: FollowContext): Promise<void> {
    const inodes = new Set<number>();
    const followed = new Set(this.#followers.map((file) => file.ino));
    for (const entry of context.checkpoints.entries()) {
      if (!followed.has(entry.ino)) inodes.add(entry.ino);
    }
    if (inodes.size === 0) return;
    const directory = await this.#searchDirectory();
    let names: string[];
    try {
      names = await readdir(directory);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(directory, name);
      const found = await statFile(path);
      if (found === undefined || followed.has(found.ino) || !inodes.has(found.ino)) continue;
      const fingerprint = await fingerprintOf(path, found.ino);
      const entry = fingerprint === undefined ? undefined : context.checkpoints.get(fingerprint);
      if (entry !== undefined && found.size !== entry.offset) {
        followed.add(found.ino);
        this.#follow(path, found.ino, found.size, 'recovering', context);
      }
    }
  }

  /**
   * copytruncate: once a generation is found truncated (or, at start, an entry is found to no longer fit
   * its inode), its copy is looked for among the files of the watched directory that no followed name
   * leads to (`tailFile`: every other file; `tailDirectory`: those `include` leaves out, the others are
   * found by discovery): of the files not followed with at least the bytes read of the generation and its
   * first line, the newest written is followed as a possible copy (`FollowedFile` checks the rest). Once
   * per truncation.
   */
  async #findCopies(context: FollowContext): Promise<void> {
    const window = Math.min(COPY_WINDOW_MS, this.#options.checkpointTtlMs);
    const pending = context.checkpoints
      .previousSince(Date.now() - window)
      .filter((previous) => previous.at > this.#copiesLookedForAt);
    if (pending.length === 0) return;
    const heads = new Set(pending.map((previous) => previous.head));
    const smallest = Math.min(...pending.map((previous) => previous.offset));
    const directory = await this.#searchDirectory();
    const names = await readdir(directory);
    const followed = new Set(this.#followers.filter((file) => !file.done).map((file) => file.ino));
    const candidates: { path: string; ino: number; size: number; mtimeMs: number; head: string }[] = [];
    for (const name of names) {
      const path = join(directory, name);
      if (this.#target.kind === 'file' ? path === this.#target.path : this.#target.matches(name)) continue;
      const found = await statFile(path);
      if (found === undefined || followed.has(found.ino) || found.size < smallest) continue;
      const head = await headOf(path, found.ino);
      if (head !== undefined && heads.has(head)) candidates.push({ path, ...found, head });
    }
    // Older rotations, and other logs, may start with the same line (a header, a banner). A generation's
    // copy holds at least the bytes read of it and was written before its truncation was found (copy, then
    // truncate): of the files that qualify, the newest is its copy. A file written since (another live log)
    // cannot be one.
    candidates.sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const previous of pending) {
      const copy = candidates.find(
        (file) =>
          !followed.has(file.ino) &&
          file.head === previous.head &&
          file.size >= previous.offset &&
          file.mtimeMs <= previous.at + COPY_MTIME_SLACK_MS,
      );
      if (copy === undefined) continue;
      followed.add(copy.ino);
      this.#follow(copy.path, copy.ino, copy.size, 'copy', context);
    }
    // Only a search that went through counts: a failed one is tried again at the next round.
    this.#copiesLookedForAt = Math.max(...pending.map((previous) => previous.at));
  }

  /**
   * A file whose name no longer leads to it (renamed or deleted before it was opened) is looked for by its
   * inode in the watched directory: found, it is drained from there (a rotation); gone, it is let go.
   */
  async #relocate(file: FollowedFile): Promise<void> {
    const directory = await this.#searchDirectory();
    // A listing races with renames (a name listed may lead to another file by the time it is looked at):
    // only several listings that all miss the file mean it is gone.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      // A listing that fails (EMFILE, EIO) tells nothing: thrown, the file is looked for at the next poll.
      const names = await readdir(directory);
      for (const name of names) {
        const path = join(directory, name);
        const found = await statFile(path);
        if (found?.ino !== file.ino) continue;
        if (file.role === 'following') this.#drain(file, 'renamed');
        file.path = path;
        file.knownSize = found.size;
        return;
      }
    }
    await file.finish();
    this.#forget(file);
  }

  async #acquire(file: FollowedFile): Promise<boolean> {
    while (this.#openFiles >= this.#maxOpen) {
      let victim: FollowedFile | undefined;
      for (const other of this.#followers) {
        if (other === file || !other.isOpen || other.role !== 'following' || this.#inRound.has(other))
          continue;
        if (victim === undefined || other.lastActiveAt < victim.lastActiveAt) victim = other;
      }
      if (victim === undefined) return false;
      await victim.close();
    }
    this.#openFiles += 1;
    return true;
  }

  /**
   * Where files rotated from the followed file are: the watched directory, or for `tailFile` the directory
   * of the file its path leads to (a symlink into another directory: `links/app.log -> ../real/app.log`
   * is rotated to `real/app.log.1`, and copied there). Resolved again at each call (a link may be
   * pointed elsewhere); a dangling link leads to where its file would be.
   */
  async #searchDirectory(): Promise<string> {
    if (this.#target.kind === 'directory') return this.#target.path;
    return dirname(await followLinks(this.#target.path));
  }

  async #startWatchers(): Promise<void> {
    const directories = new Set([
      this.#target.kind === 'file' ? dirname(this.#target.path) : this.#target.path,
    ]);
    // A symlink's own directory sees no event when the file it leads to is appended to or rotated.
    if (this.#target.kind === 'file')
      directories.add(await this.#searchDirectory().catch(() => dirname(this.#target.path)));
    for (const directory of directories) this.#startWatcher(directory);
  }

  #startWatcher(directory: string): void {
    try {
      const watcher = watch(directory, { persistent: this.#options.keepAlive }, () => this.#watchEvent());
      this.#watchers.push(watcher);
      watcher.on('error', (error) => {
        this.#warn(
          `watching ${directory} failed; polling every ${this.#options.pollIntervalMs} ms`,
          directory,
          error,
        );
        watcher.close();
        const index = this.#watchers.indexOf(watcher);
        if (index >= 0) this.#watchers.splice(index, 1);
      });
    } catch (error) {
      this.#warn(
        `cannot watch ${directory}; polling every ${this.#options.pollIntervalMs} ms`,
        directory,
        error,
      );
    }
  }

  #sleep(ms: number): Promise<void> {
    if (ms === 0 || this.#abort.signal.aborted) return Promise.resolve();
    return new Promise((resolvePromise) => {
      const timer = setTimeout(done, ms);
      if (!this.#options.keepAlive) timer.unref();
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.#wake = undefined;
        resolvePromise();
      }
      this.#wake = done;
    });
  }

  /**
   * Marks the entries of files still there as seen at `now`, however long they have been idle: those of
   * followed files and any other entry with the inode of a followed file (a file not opened yet, under a
   * descriptor cap, has not adopted its entry). Only entries of files gone for the TTL expire.
   */
  #touchPresent(checkpoints: CheckpointStore, now: number): void {
    const present = new Set<number>();
    for (const file of this.#followers) {
      present.add(file.ino);
      if (file.entry !== undefined) file.entry.seenAt = now;
    }
    for (const entry of checkpoints.entries()) if (present.has(entry.ino)) entry.seenAt = now;
  }

  /** Marks `file` as rotated away (read to its end, then let go) and says so. */
  #drain(file: FollowedFile, reason: 'renamed' | 'deleted', path = file.path): void {
    file.role = 'draining';
    this.#events.emit('rotated', { path, fingerprint: file.entry?.fingerprint, reason });
  }

  async #shutdown(): Promise<void> {
    this.#stopped = true;
    for (const watcher of this.#watchers.splice(0)) watcher.close();
    await this.#discovering;
    try {
      // Files still there are seen up to the stop; nothing expires on load, however long the stop.
      if (this.#checkpoints !== undefined) this.#touchPresent(this.#checkpoints, Date.now());
      const closed = await Promise.allSettled([...this.#followers].map((file) => file.close()));
      for (const result of closed) if (result.status === 'rejected') this.#error(result.reason);
      await this.#checkpoints?.save();
    } catch (error) {
      this.#error(error);
    } finally {
      checkpointsInUse.delete(this.#checkpointPath);
    }
  }

  /**
   * Warns about what keeps the target from being followed (`undefined`: nothing does), once until it
   * changes: it is looked at again at every poll.
   */
  #noteTargetProblem(problem: string | undefined, cause?: unknown): void {
    if (problem === this.#targetProblem) return;
    this.#targetProblem = problem;
    if (problem !== undefined) this.#warn(problem, this.#target.path, cause);
  }

  #warn(message: string, path?: string, cause?: unknown): void {
    this.#events.emit('warning', {
      message,
      ...(path === undefined ? {} : { path }),
      ...(cause === undefined ? {} : { cause }),
    });
  }

  #error(error: unknown): void {
    this.#events.emit('error', error instanceof Error ? error : new Error(String(error)));
  }
}

/** Whether a failure tried again at every poll is worth saying: new for its key, or not said for a while. */
class RepeatFilter<K extends object> {
  readonly #last = new WeakMap<K, { readonly message: string; readonly at: number }>();

  /** True (and remembered) when `message` differs from what `key` last said, or that is a while ago. */
  isNews(key: K, message: string): boolean {
    const last = this.#last.get(key);
    const now = Date.now();
    if (last !== undefined && last.message === message && now - last.at < REPEAT_ERROR_MS) return false;
    this.#last.set(key, { message, at: now });
    return true;
  }

  /** `key` recovered: its next failure is news. */
  forget(key: K): void {
    this.#last.delete(key);
  }
}

/** Why the path `tailFile` follows is not a file it can follow, when something else is there. */
async function notAFile(path: string): Promise<string | undefined> {
  const found = await stat(path).catch(() => undefined);
  if (found === undefined || found.isFile()) return undefined;
  return found.isDirectory()
    ? `${path} is a directory, not a file: tailDirectory (sluice tail DIR) follows the files in it`
    : `${path} is not a regular file (a FIFO, a socket or a device): it cannot be followed`;
}

/**
 * How much later than the truncation was found a copy's mtime may be: file times are coarser than the
 * clock on some filesystems (2 s on FAT) and carry fractions of the millisecond on others.
 */
const COPY_MTIME_SLACK_MS = 2_000;

async function statFile(path: string): Promise<{ ino: number; size: number; mtimeMs: number } | undefined> {
  try {
    const found = await stat(path);
    return found.isFile() ? { ino: found.ino, size: found.size, mtimeMs: found.mtimeMs } : undefined;
  } catch (error) {
    // Not a file this tailer can follow (gone, a symlink loop, unreadable): skipped, never fatal. Other
    // errors (EIO, EMFILE) are thrown and the discovery is tried again at the next poll.
    if (NOT_FOLLOWABLE.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
}

const NOT_FOLLOWABLE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES', 'EPERM', 'ENAMETOOLONG']);

/** The fingerprint of the file at `path` (as a rotated file: an unterminated first line counts). */
async function fingerprintOf(path: string, ino: number): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw error;
  }
  try {
    if ((await handle.stat()).ino !== ino) return undefined;
    return await readFingerprint(handle, ino, true);
  } finally {
    await handle.close();
  }
}

/** The hash of the first line of the file at `path` (see `readIdentity`), if it is complete. */
async function headOf(path: string, ino: number): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM'].includes(code ?? '')) return undefined;
    throw error;
  }
  try {
    if ((await handle.stat()).ino !== ino) return undefined;
    return (await readIdentity(handle, ino, false))?.head;
  } finally {
    await handle.close();
  }
}

/** Symlinks followed at most this deep (Linux's own limit for one path is 40). */
const MAX_LINK_DEPTH = 40;

/**
 * The path `path` leads to once every symlink it ends in is followed (its directories resolved too),
 * whether or not the last one leads to an existing file; `path` itself when it is no link.
 */
async function followLinks(path: string): Promise<string> {
  let current = path;
  for (let depth = 0; depth < MAX_LINK_DEPTH; depth += 1) {
    let link: string;
    try {
      if (!(await lstat(current)).isSymbolicLink()) break;
      link = await readlink(current);
    } catch (error) {
      if (NOT_FOLLOWABLE.has((error as NodeJS.ErrnoException).code ?? '')) break;
      throw error;
    }
    const from = await realpath(dirname(current)).catch(() => dirname(current));
    current = resolve(from, link);
  }
  return current;
}
