import { type FileHandle, open } from 'node:fs/promises';
import { type CheckpointEntry, type CheckpointStore, detachGeneration } from './checkpoint-store.js';
import { readBefore, readFingerprint, readIdentity } from './fingerprint.js';
import { LineSplitter, type RawLine } from './line-splitter.js';
import { MultilineGrouper, type TailLine, toTailLine } from './multiline.js';
import type { ResolvedTailOptions } from './options.js';
import type { RecordSink } from './record-sink.js';
import type { TailEvents } from './tail-events.js';

/**
 * `following`: the file at a followed path. `draining`: renamed away or deleted; read to its end, then let
 * go. `recovering`: found at start by the inode of a checkpoint (rotated while the tailer was down); drained
 * like `draining`, but only if its fingerprint has a checkpoint (an unrelated file that got the inode is
 * left alone). `copy`: a file of the watched directory that no followed name leads to, whose first line is
 * that of a generation just found truncated: drained as its copy if it is one, else let go.
 */
export type FollowRole = 'following' | 'draining' | 'recovering' | 'copy';

/** What a file's reader shares with its tailer. */
export interface FollowContext {
  readonly options: ResolvedTailOptions;
  readonly checkpoints: CheckpointStore;
  readonly sink: RecordSink;
  /** The one read buffer of the tailer (files are read one at a time). */
  readonly buffer: Buffer;
  /**
   * Whether copies made by copytruncate are looked for among new files (`tailDirectory`: the copies are
   * in the watched directory and may match `include`).
   */
  readonly copies: boolean;
  emit<E extends keyof TailEvents>(event: E, payload: TailEvents[E]): void;
  /** The paths of the files followed with inode `ino` (to compare a possible copy with its source). */
  pathsOf(ino: number): string[];
  /** Asks for a descriptor; false when the cap is reached and none could be freed. */
  acquire(file: FollowedFile): Promise<boolean>;
  released(file: FollowedFile): void;
  /** A checkpoint moved; the tailer saves it within `checkpointIntervalMs`. */
  dirty(): void;
}

/** A record's `ts` is renewed (with a checkpoint written first) when it is older than this. */
const STAMP_REFRESH_MS = 1000;

/**
 * A truncated generation's copy is looked for this long after the truncation was found (at most
 * `checkpointTtlMs`). copytruncate copies before it truncates, so when a truncation is found its copy is
 * already there and only has to be listed and get a turn: a minute covers a busy tailer (descriptor cap,
 * long rounds). A copy found later is read as a new file: its lines come twice, never lost.
 */
export const COPY_WINDOW_MS = 60_000;

/**
 * A new file whose first line is that of a file already read (another inode) may be a copy whose source
 * has not been seen truncated yet (listed while copytruncate still copies, or between the copy and the
 * truncation): it waits this long (at least, in poll intervals: 4) before it is read as a file of its own,
 * and longer while it looks like a copy still being written (see `COPY_WAIT_MAX_MS`).
 */
export const COPY_WAIT_MS = 1000;

/**
 * A new file that looks like a copy still being written (a big file, a slow disk) — its last bytes are
 * those of its source at the same place, or its source is shorter than it (truncated, not seen yet) — waits
 * until it stayed `COPY_WAIT_MS` without growing (its source is truncated right after the copy), but no
 * longer than this from when it was first seen: then it is read as a file of its own (its lines come twice,
 * never lost).
 */
export const COPY_WAIT_MAX_MS = 60_000;

/** The outcome of one turn: more to read now, nothing to do until the file changes, or finished. */
export type StepResult = 'more' | 'idle' | 'done';

/**
 * Reads one file: fingerprints it, resumes from its checkpoint, cuts lines, ships them and moves the
 * checkpoint, notices truncation and in-place rewrites, and drains it once rotated away.
 */
export class FollowedFile {
  path: string;
  readonly ino: number;
  role: FollowRole;
  /** Size last seen by stat. */
  knownSize: number;
  lastActiveAt = Date.now();
  bytesRead = 0;
  lines = 0;
  #handle: FileHandle | undefined;
  #entry: CheckpointEntry | undefined;
  #position = 0;
  /**
   * Records that start before this offset may already be in the queue under the entry's current `ts`
   * (read before a failed turn, or by a process that crashed before its checkpoint caught up, which read
   * no further than the file's size when it was adopted): `ts` is not renewed until the checkpoint is
   * past it, or reading them again would make the same ids with another content.
   */
  #stampHeldUntil = 0;
  /** Whether a turn found it too short for a fingerprint (its stale checkpoints are then detached). */
  #emptyChecked = false;
  #splitter: LineSplitter | undefined;
  #grouper: MultilineGrouper | undefined;
  #lastGrowthAt = Date.now();
  readonly #createdAt = Date.now();
  /** While it may be a copy being written (see `#mayBeCopy`): its size at the last look, and when it grew. */
  #copyCheckSize = -1;
  #copyCheckGrewAt = Date.now();
  #done = false;
  readonly #context: FollowContext;

  /** The name the file had when the tailer first saw it: its records' `file` when it gets a checkpoint. */
  readonly #firstPath: string;

  constructor(context: FollowContext, path: string, ino: number, size: number, role: FollowRole) {
    this.#context = context;
    this.path = path;
    this.#firstPath = path;
    this.ino = ino;
    this.knownSize = size;
    this.role = role;
  }

  get entry(): CheckpointEntry | undefined {
    return this.#entry;
  }

  get position(): number {
    return this.#position;
  }

  get isOpen(): boolean {
    return this.#handle !== undefined;
  }

  get done(): boolean {
    return this.#done;
  }

  /** True when a turn could do something: unread bytes, a pending record or a drain to finish. */
  get wantsTurn(): boolean {
    if (this.#done) return false;
    if (this.role !== 'following') return true;
    // An empty file gets one turn: it may be a file truncated while the tailer was down, whose checkpoint
    // must be detached now so that its copy is looked for, not once it grows again.
    if (this.#entry === undefined) return this.knownSize > 0 || !this.#emptyChecked;
    if (this.knownSize !== this.#position) return true;
    return this.#grouper?.pendingStart !== undefined;
  }

  /** True when the file we hold open was deleted (its name may now be another file with the same inode). */
  async unlinked(): Promise<boolean> {
    if (this.#handle === undefined) return false;
    return (await this.#handle.stat()).nlink === 0;
  }

  /**
   * Gets the file ready for a turn: opens it, checks that it is still the file it was (truncation, rewrite,
   * deletion), fingerprints it and takes its checkpoint (or a new one), and renews the records' `ts` when
   * it is stale. What it changed in the checkpoints must be saved before `step` ships anything
   * (`'save'`): the tailer saves once for every file prepared in a round, not once per file. `'lost'`:
   * its name no longer leads to it (rotated before it was opened); the tailer looks for it by inode.
   */
  async prepare(): Promise<'save' | 'ready' | 'wait' | 'lost' | 'done'> {
    if (this.#done) return 'done';
    const { options } = this.#context;
    if (this.#handle === undefined) {
      if (!(await this.#context.acquire(this))) return 'wait';
      let handle: FileHandle;
      try {
        handle = await open(this.path, 'r');
      } catch (error) {
        this.#context.released(this);
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        // Renamed or deleted since it was seen: the tailer looks for it by its inode.
        return 'lost';
      }
      this.#handle = handle;
      if ((await handle.stat()).ino !== this.ino) {
        // The name now belongs to another file (rotated before it was opened): looked for by its inode.
        await this.close();
        return 'lost';
      }
    }
    const handle = this.#handle;
    this.lastActiveAt = Date.now();
    const stat = await handle.stat();
    this.knownSize = stat.size;
    if (this.role === 'following' && stat.nlink === 0) {
      this.role = 'draining';
      this.#context.emit('rotated', {
        path: this.path,
        fingerprint: this.#entry?.fingerprint,
        reason: 'deleted',
      });
    }
    const now = Date.now();
    if (this.#entry !== undefined && stat.size < this.#position) {
      this.#restart('truncated');
    } else if (this.#entry !== undefined && stat.size > this.#position && this.#position > 0) {
      const fingerprint = await readFingerprint(handle, this.ino, false);
      if (fingerprint !== undefined && fingerprint !== this.#entry.fingerprint) this.#restart('rewritten');
    }
    if (this.#entry === undefined) {
      const settled = this.role !== 'following' && now - this.#lastGrowthAt >= options.rotateWaitMs;
      const identity = await readIdentity(handle, this.ino, settled);
      if (identity === undefined) {
        this.#emptyChecked = true;
        // Entries of this inode with more bytes read than it now has describe a file that is gone.
        if (this.#detachStale(undefined, stat.size, now) > 0) this.#context.dirty();
        if (stat.size > this.knownSizeAtLastTurn) this.#lastGrowthAt = now;
        this.knownSizeAtLastTurn = stat.size;
        if (settled) return this.#finish();
        // An empty file holds no descriptor while it stays empty (a directory may have thousands); it is
        // opened again once it grows.
        if (stat.size === 0) await this.close();
        return 'wait';
      }
      const { fingerprint, head } = identity;
      const { checkpoints } = this.#context;
      if (this.role === 'recovering' && checkpoints.get(fingerprint) === undefined) {
        return this.#finish();
      }
      if (checkpoints.get(fingerprint) === undefined && this.role === 'copy') {
        return (await this.#adoptCopy(fingerprint, head, stat.size, now)) ? 'save' : this.#finish();
      }
      if (checkpoints.get(fingerprint) === undefined && this.#context.copies && this.role === 'following') {
        if (await this.#adoptCopy(fingerprint, head, stat.size, now)) return 'save';
        if (await this.#mayBeCopy(head, stat.size, now)) return 'wait';
      }
      await this.#adopt(fingerprint, head, stat.size);
      return 'save';
    }
    // Pieces of an over-long line already shipped carry the current ts: it may not change under them.
    if (
      now - this.#entry.ts >= STAMP_REFRESH_MS &&
      !this.#splitter!.splitting &&
      this.#entry.offset >= this.#stampHeldUntil
    ) {
      this.#entry.ts = now;
      this.#entry.seenAt = now;
      return 'save';
    }
    return 'ready';
  }

  /** Reads up to `maxReadBytes` of a prepared file, shipping what it read; see {@link StepResult}. */
  async step(): Promise<StepResult> {
    if (this.#done) return 'done';
    const handle = this.#handle;
    if (handle === undefined || this.#entry === undefined) return 'idle';
    const { options } = this.#context;
    const size = this.knownSize;
    const entry = this.#entry!;
    let budget = options.maxReadBytes;
    while (budget > 0 && this.#position < size) {
      const want = Math.min(this.#context.buffer.length, budget, size - this.#position);
      const { bytesRead } = await handle.read(this.#context.buffer, 0, want, this.#position);
      // Truncated (copytruncate) and written again since it was looked at, before or just after the read:
      // the bytes may be the new content's, read as the old one's at its offsets. They are dropped, and
      // the old content's copy, if followed, is read from the checkpoint instead.
      const identity = await readIdentity(handle, this.ino, true);
      if (identity?.fingerprint !== entry.fingerprint) {
        this.#restart('truncated');
        return 'more';
      }
      if (bytesRead === 0) break;
      this.#position += bytesRead;
      this.bytesRead += bytesRead;
      budget -= bytesRead;
      this.#lastGrowthAt = Date.now();
      const raw: RawLine[] = [];
      this.#splitter!.push(this.#context.buffer.subarray(0, bytesRead), raw);
      await this.#ship(entry, raw, false);
    }
    this.knownSizeAtLastTurn = size;
    if (this.#position < size) return 'more';
    const idleFor = Date.now() - this.#lastGrowthAt;
    const pendingEnd = this.#grouper?.pendingEnd;
    if (pendingEnd !== undefined && idleFor >= options.multilineTimeoutMs) {
      // Where the timeout ends the record is durable before the record ships: read again from the
      // checkpoint after a kill, it ends there too, and lines appended since are a record of their own.
      entry.cut = pendingEnd;
      try {
        await this.#context.checkpoints.save();
      } catch (error) {
        delete entry.cut;
        throw error;
      }
      await this.#ship(entry, [], true);
    }
    if (this.role !== 'following' && idleFor >= options.rotateWaitMs) {
      const raw: RawLine[] = [];
      this.#splitter!.flushPartial(raw);
      await this.#ship(entry, raw, true);
      if (raw.length > 0) entry.unterminated = true;
      await this.#context.checkpoints.save();
      return this.#finish();
    }
    return 'idle';
  }

  /** Size seen at the end of the last turn (to tell growth of a file that has no fingerprint yet). */
  knownSizeAtLastTurn = 0;

  /** Closes the descriptor; reading resumes from the checkpoint when it is opened again. */
  async close(): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) return;
    this.#handle = undefined;
    this.#context.released(this);
    this.#resetToCheckpoint();
    await handle.close();
  }

  /** Forgets what was read past the checkpoint (after a failure midway): it is read again. */
  #resetToCheckpoint(): void {
    if (this.#entry === undefined) return;
    this.#stampHeldUntil = Math.max(this.#stampHeldUntil, this.#position);
    this.#position = this.#entry.offset;
    this.#splitter = new LineSplitter(this.#context.options.maxLineBytes, this.#position);
    this.#grouper = this.#newGrouper();
  }

  /** After a failed turn: drop state past the checkpoint and close, so the next turn starts clean. */
  async recover(): Promise<void> {
    this.#resetToCheckpoint();
    await this.close().catch(() => undefined);
  }

  /** Let go for good (a lost file that could not be found again). */
  finish(): Promise<'done'> {
    return this.#finish();
  }

  async #finish(): Promise<'done'> {
    if (!this.#done) {
      this.#done = true;
      await this.close();
      this.#context.emit('released', { path: this.path, fingerprint: this.#entry?.fingerprint });
    }
    return 'done';
  }

  #newGrouper(): MultilineGrouper | undefined {
    const { startPattern, maxLineBytes } = this.#context.options;
    if (startPattern === undefined) return undefined;
    const entry = this.#entry;
    return new MultilineGrouper(startPattern, maxLineBytes, { cut: entry?.cut, continued: entry?.continued });
  }

  /**
   * Starts on the checkpoint of `fingerprint` (or a new one); the caller saves it before any line ships.
   * Entries are matched by fingerprint only: other entries of the same inode describe a file that is gone
   * (the inode now holds another first line) and are detached, never trusted by their inode.
   */
  async #adopt(fingerprint: string, head: string, size: number): Promise<void> {
    const { checkpoints } = this.#context;
    const now = Date.now();
    let entry = checkpoints.get(fingerprint);
    // Lines of a new entry or generation were never shipped; those past a known checkpoint may have been.
    let heldUntil = 0;
    if (entry !== undefined) {
      heldUntil = size;
      const beyondEnd = entry.offset > size;
      const midLine =
        !beyondEnd &&
        entry.offset > 0 &&
        entry.offset < size &&
        entry.unterminated !== true &&
        !(await this.#newlineBefore(entry.offset));
      const otherBytes = !beyondEnd && !midLine && !(await this.#holdsBefore(entry.offset, entry.before));
      if (beyondEnd || midLine || otherBytes) {
        const why = beyondEnd
          ? `is past its end (${size} bytes)`
          : midLine
            ? 'is not at the start of a line'
            : 'follows other bytes than those read (rewritten with the same first line, or another file with its inode)';
        this.#context.emit('warning', {
          message: `checkpoint of ${this.path} at ${entry.offset} does not fit the file: it ${why}; reading it from its start as a new generation`,
          path: this.path,
        });
        // A copy made before it shrank (copytruncate while the tailer was down) is looked for.
        entry.head ??= head;
        detachGeneration(entry, now);
        heldUntil = 0;
        this.#context.emit('truncated', { path: this.path, fingerprint, generation: entry.generation });
      }
      entry.head = head;
      entry.ino = this.ino;
      entry.seenAt = now;
    } else {
      entry = {
        fingerprint,
        generation: 0,
        offset: 0,
        ts: now,
        file: this.#firstPath,
        ino: this.ino,
        seenAt: now,
        head,
      };
      checkpoints.set(entry);
    }
    this.#detachStale(entry, undefined, now);
    this.#start(entry, heldUntil);
  }

  /**
   * Detaches the entries of this file's inode other than `keep` (with `size`: only those read past it):
   * the inode no longer holds what they describe. Returns how many.
   */
  #detachStale(keep: CheckpointEntry | undefined, size: number | undefined, now: number): number {
    let detached = 0;
    for (const other of this.#context.checkpoints.entries()) {
      if (other === keep || other.ino !== this.ino || other.offset === 0) continue;
      if (size !== undefined && other.offset <= size) continue;
      detachGeneration(other, now);
      detached += 1;
    }
    return detached;
  }

  /**
   * copytruncate: a new file whose first line is that of a generation truncated in place a short while ago,
   * with at least the bytes read of that generation (a newline just before them), is its copy. It is read
   * under the old generation's ids from where reading of it stood, so that only the lines written between
   * the last read and the truncation are read (the others would be duplicates by content under new ids),
   * then drained and let go like a renamed file. True when it was one.
   */
  async #adoptCopy(fingerprint: string, head: string, size: number, now: number): Promise<boolean> {
    const { checkpoints, options } = this.#context;
    const window = Math.min(COPY_WINDOW_MS, options.checkpointTtlMs);
    const match = checkpoints.findPrevious(head, now - window);
    if (match === undefined) return false;
    const { previous } = match;
    if (previous.offset > size) return false;
    if (previous.offset > 0 && !(await this.#newlineBefore(previous.offset))) return false;
    if (!(await this.#holdsBefore(previous.offset, previous.before))) return false;
    const entry: CheckpointEntry = {
      fingerprint,
      generation: 0,
      offset: previous.offset,
      ...(previous.before === undefined ? {} : { before: previous.before }),
      ts: previous.ts,
      file: match.entry.file,
      ino: this.ino,
      seenAt: now,
      head,
      as: { fingerprint: previous.fingerprint, generation: previous.generation },
    };
    checkpoints.dropPrevious(match.entry, previous);
    checkpoints.set(entry);
    this.role = 'draining';
    this.#context.emit('rotated', { path: this.path, fingerprint: previous.fingerprint, reason: 'copied' });
    // The lines past the old generation's checkpoint may have been enqueued before it was truncated.
    this.#start(entry, size);
    return true;
  }

  /**
   * True while this new file may be a copy whose source has not been seen truncated yet: its first line is
   * that of an entry of another inode that was read, and it was first seen less than the copy wait ago, or
   * it is still growing (it grew less than the copy wait ago) as a copy being written would: its last
   * bytes are its source's at the same offset, or its source is shorter (truncated since). Read under its
   * own ids, a copy is never matched to its truncated generation again: every line would come twice.
   */
  async #mayBeCopy(head: string, size: number, now: number): Promise<boolean> {
    if (size !== this.#copyCheckSize) {
      this.#copyCheckSize = size;
      this.#copyCheckGrewAt = now;
    }
    const wait = Math.max(COPY_WAIT_MS, 4 * this.#context.options.pollIntervalMs);
    const sources: CheckpointEntry[] = [];
    for (const other of this.#context.checkpoints.entries()) {
      if (other.head === head && other.ino !== this.ino && other.offset > 0) sources.push(other);
    }
    if (sources.length === 0) return false;
    if (now - this.#createdAt < wait) return true;
    if (now - this.#copyCheckGrewAt >= wait) return false;
    if (now - this.#createdAt >= Math.max(COPY_WAIT_MAX_MS, wait)) return false;
    const mine = await readBefore(this.#handle!, size);
    for (const source of sources) {
      for (const path of this.#context.pathsOf(source.ino)) {
        if (await sameBytesBefore(path, source.ino, size, mine)) return true;
      }
    }
    return false;
  }

  /** Reads on from `entry`; records before `heldUntil` may be in the queue already (see `#stampHeldUntil`). */
  #start(entry: CheckpointEntry, heldUntil: number): void {
    this.#entry = entry;
    this.#stampHeldUntil = heldUntil;
    this.#position = entry.offset;
    this.#resetToCheckpoint();
    this.#context.emit('opened', {
      path: this.path,
      fingerprint: entry.fingerprint,
      generation: entry.generation,
      offset: entry.offset,
    });
  }

  /** Whether the bytes before `offset` hash to `before` (true when there is nothing to check). */
  async #holdsBefore(offset: number, before: string | undefined): Promise<boolean> {
    if (before === undefined || offset === 0) return true;
    return (await readBefore(this.#handle!, offset)) === before;
  }

  async #newlineBefore(offset: number): Promise<boolean> {
    const byte = Buffer.alloc(1);
    const { bytesRead } = await this.#handle!.read(byte, 0, 1, offset - 1);
    return bytesRead === 1 && byte[0] === 0x0a;
  }

  /**
   * The file shrank or its first line changed: what was read of it is gone; read it again as new. Its
   * entry becomes a new generation (a file with its first line again is read from 0 under new ids) and
   * remembers where the old one stood, for its copy.
   */
  #restart(reason: 'truncated' | 'rewritten'): void {
    const entry = this.#entry!;
    detachGeneration(entry, Date.now());
    this.#context.dirty();
    this.#entry = undefined;
    this.#position = 0;
    this.#splitter = undefined;
    this.#grouper = undefined;
    this.#context.emit('truncated', {
      path: this.path,
      fingerprint: entry.fingerprint,
      generation: entry.generation,
      reason,
    });
  }

  async #ship(entry: CheckpointEntry, raw: readonly RawLine[], flushGroup: boolean): Promise<void> {
    const lines: TailLine[] = [];
    if (this.#grouper === undefined) {
      for (const line of raw) lines.push(toTailLine(line));
    } else {
      for (const line of raw) this.#grouper.push(line, lines);
      if (flushGroup) this.#grouper.flush(lines);
    }
    const next = this.#grouper?.pendingStart ?? this.#splitter!.lineStart;
    // Read now, just after the bytes were read and the file checked: shipping may wait long (a full
    // queue), and a copytruncate meanwhile would make the file hold other bytes there.
    const before = next === entry.offset ? undefined : await readBefore(this.#handle!, next);
    await this.#context.sink.ship(entry, lines);
    // A record may be shipped ahead of the checkpoint (pieces of a long line while the multiline record
    // it ends is still pending): the ts stays until the checkpoint has passed it.
    const shippedEnd = lines.at(-1)?.end;
    if (shippedEnd !== undefined) this.#stampHeldUntil = Math.max(this.#stampHeldUntil, shippedEnd);
    this.lines += lines.length;
    if (next !== entry.offset) {
      entry.offset = next;
      if (before === undefined) delete entry.before;
      else entry.before = before;
      delete entry.unterminated;
      delete entry.cut;
      if (this.#grouper?.pendingContinues === true) entry.continued = true;
      else delete entry.continued;
      entry.seenAt = Date.now();
      this.#context.dirty();
    }
  }
}

/**
 * Whether the file at `path` (still inode `ino`) has `before` (see `readBefore`) just before `offset`, or
 * fewer than `offset` bytes. False when it is gone.
 */
async function sameBytesBefore(
  path: string,
  ino: number,
  offset: number,
  before: string | undefined,
): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch {
    return false;
  }
  try {
    const stat = await handle.stat();
    if (stat.ino !== ino) return false;
    if (stat.size < offset) return true;
    return (await readBefore(handle, offset)) === before;
  } finally {
    await handle.close();
  }
}
