import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { newItemId, sha256Hex } from '@sluice/contracts';
import { createUploader } from '../uploader.js';
import type { Uploader } from '../uploader-api.js';
import { collectFiles, type FilePlan, type FileToSend } from './collect-files.js';
import { EXIT, parseServerArgs, plural, refusedKeyMessage, stopCause, UsageError } from './common.js';
import { createProgress, formatBytes, type Progress, type SendProgressState } from './progress.js';
import { QueueRoom } from './queue-room.js';
import { MAX_RECORD_LINE_BYTES, numberedLines, parseRecordLine } from './record-line.js';

import { listenForNotices } from './uploader-notices.js';

const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.csv': 'text/csv',
  '.mp4': 'video/mp4',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
};

/** Enqueues of `--records` lines waiting for their group commit at once. */
const RECORD_WINDOW = 256;

/** Usage text of `sluice send`. */
export const SEND_USAGE = `sluice send [FILE|DIR…] [--records FILE.ndjson|-] [--type TYPE] [--content-type TYPE]
            [--hidden] [--timeout SECONDS] --endpoint URL [--key-file PATH] [--dir DIR]
  Sends files as blobs and waits until each one is delivered or dead-lettered. A directory is walked
  recursively; inside it symbolic links are not followed and hidden entries (.name) are left out unless
  --hidden (both are counted and reported). Every file is counted first, then copied into DIR and sent;
  a file is stored with meta.name = its name (<dir>/<path> when found in a directory; a byte of a name
  that is not UTF-8 as \\xHH), ts = its modification time (0 before 1970) and type TYPE (default
  "file"). Content type: --content-type, else from the extension, else application/octet-stream.
  --records sends records from an NDJSON file (- for stdin): one JSON object a line, {"type", "data",
  "id"?, "ts"?} (id: 1-128 of [A-Za-z0-9._:-], default a new UUIDv7; ts: epoch ms, default now); blank
  lines are skipped. A bad line (not a record, not UTF-8, longer than ${MAX_RECORD_LINE_BYTES} bytes or six
  times the server's data limit) is reported with its line number and the good lines still go; the exit
  status is then 3. Give lines an id to make running the same input again harmless.
  Without files or --records: delivers what an earlier run left queued in DIR.
  On a terminal: a progress line (files, bytes, rate, ETA) and only problems; otherwise a line per file
  (stored|duplicate|dead, id, path). Ends with "N delivered, M dead". --timeout: stop waiting after
  SECONDS (exit 4; what is not delivered stays queued in DIR). A refused key stops it too (exit 4).
  SIGINT and SIGTERM stop it likewise (exit 130 and 143; a second signal ends it at once), and so does
  a closed stdout (exit 141).`;

/** Why a run stopped before everything was delivered. */
type StopReason =
  | { readonly kind: 'signal'; readonly exitCode: number }
  | { readonly kind: 'key'; readonly status: number; readonly fromApi: boolean }
  | { readonly kind: 'timeout'; readonly seconds: number };

function seconds(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (typeof value !== 'string' || !Number.isFinite(number) || number <= 0 || number * 1000 > 2 ** 31 - 1) {
    throw new UsageError(`--timeout must be a positive number of seconds, got ${String(value)}`);
  }
  return number;
}

/** `sluice send`: uploads files as blobs and NDJSON lines as records; returns the process exit code. */
export async function send(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<number> {
  const { values, positionals, dir, endpoint, key } = await parseServerArgs(argv, env, {
    type: { type: 'string' },
    'content-type': { type: 'string' },
    records: { type: 'string' },
    hidden: { type: 'boolean' },
    timeout: { type: 'string' },
  });
  const timeout = seconds(values.timeout);
  const recordsPath = values.records;
  const plan = await collectFiles(positionals, { hidden: values.hidden === true });
  let recordsInput: { readonly label: string; readonly handle: FileHandle | undefined } | undefined;
  if (recordsPath !== undefined) {
    recordsInput =
      recordsPath === '-'
        ? { label: 'stdin', handle: undefined }
        : { label: recordsPath, handle: await openOrThrow(recordsPath) };
  }
  try {
    const uploader = await createUploader({ endpoint, apiKey: key, directory: dir });
    const run = new SendRun(uploader, plan, dir, {
      type: values.type ?? 'file',
      contentType: values['content-type'],
      records: recordsInput,
    });
    return await run.start(signal, timeout);
  } finally {
    await recordsInput?.handle?.close();
  }
}

async function openOrThrow(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    throw new Error(`cannot read --records ${path}: ${(error as Error).message}; nothing was queued`, {
      cause: error,
    });
  }
}

interface SendOptions {
  readonly type: string;
  readonly contentType: string | undefined;
  readonly records: { readonly label: string; readonly handle: FileHandle | undefined } | undefined;
}

/** One `sluice send`: queues the inputs, follows the uploader's events, waits, reports. */
class SendRun {
  readonly #uploader: Uploader;
  readonly #plan: FilePlan;
  readonly #directory: string;
  readonly #options: SendOptions;
  readonly #progress: Progress;
  /** Per-file lines on stdout unless it is a terminal showing the progress line. */
  readonly #itemLines = process.stdout.isTTY !== true;
  readonly #stop = new AbortController();
  /** Files queued and not yet settled, by item id. */
  readonly #files = new Map<string, FileToSend>();
  /** Records queued and not yet settled, by item id: their line number. */
  readonly #records = new Map<string, number>();
  #filesQueued = 0;
  #filesDone = 0;
  #bytesDone = 0;
  #recordsRead = 0;
  /** Line the `--records` input was last read to when the run stopped before its end. */
  #recordsStoppedAt: number | undefined;
  #recordsDone = 0;
  #delivered = 0;
  #dead = 0;
  #refused = 0;
  #badLines = 0;
  #note: string | undefined;
  /** Where enqueues that found the queue full wait for items to settle. */
  readonly #room: QueueRoom;

  constructor(uploader: Uploader, plan: FilePlan, directory: string, options: SendOptions) {
    this.#uploader = uploader;
    this.#plan = plan;
    this.#directory = directory;
    this.#options = options;
    this.#progress = createProgress();
    this.#room = new QueueRoom(() => uploader.stats().queued);
  }

  async start(signal: AbortSignal, timeoutSeconds: number | undefined): Promise<number> {
    const uploader = this.#uploader;
    const onSignal = (): void =>
      this.#halt({ kind: 'signal', exitCode: Number(signal.reason) || EXIT.interrupted });
    signal.addEventListener('abort', onSignal, { once: true });
    if (signal.aborted) onSignal();
    const timer =
      timeoutSeconds === undefined
        ? undefined
        : setTimeout(() => this.#halt({ kind: 'timeout', seconds: timeoutSeconds }), timeoutSeconds * 1000);
    const ticker = setInterval(() => this.#progress.update(this.#state()), 250);
    ticker.unref();
    uploader.on('delivered', (event) => {
      this.#note = undefined;
      for (const item of event.items) this.#settle(item.id, event.kind, item.status, undefined);
    });
    uploader.on('dead', (event) => {
      for (const item of event.items) this.#settle(item.id, event.kind, 'dead', item.reason);
    });
    listenForNotices(uploader, this.#progress, {
      note: () => this.#note,
      setNote: (note) => {
        this.#note = note;
      },
      refused: (status, fromApi) => this.#halt({ kind: 'key', status, fromApi }),
    });
    let failure: unknown;
    try {
      if (!this.#progress.live && this.#plan.files.length > 0) {
        process.stderr.write(
          `sending ${plural(this.#plan.files.length, 'file')} (${formatBytes(this.#plan.bytes)})${this.#describeSkipped()}\n`,
        );
      } else if (this.#progress.live) this.#progress.update(this.#state(), true);
      await this.#queueFiles();
      await this.#queueRecords();
      if (!this.#stop.signal.aborted) await Promise.race([uploader.flush(), this.#stopped()]);
    } catch (error) {
      failure = error;
    } finally {
      signal.removeEventListener('abort', onSignal);
      clearTimeout(timer);
      clearInterval(ticker);
    }
    const stillQueued = uploader.stats().queued;
    await uploader.close();
    this.#progress.done(this.#state());
    if (failure !== undefined) throw failure;
    if (this.#progress.live && this.#describeSkipped() !== '') {
      process.stderr.write(`${this.#describeSkipped().slice(2)}\n`);
    }
    process.stdout.write(`${this.#summary()}\n`);
    const reason = this.#stop.signal.reason as StopReason | undefined;
    if (reason !== undefined) {
      process.stderr.write(`sluice: ${this.#stopMessage(reason, stillQueued)}\n`);
      return reason.kind === 'signal' ? reason.exitCode : EXIT.queued;
    }
    return this.#dead + this.#refused + this.#badLines === 0 ? EXIT.ok : EXIT.partial;
  }

  #halt(reason: StopReason): void {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort(reason);
    this.#room.close();
  }

  #stopped(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#stop.signal.aborted) resolve();
      else this.#stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  #stopMessage(reason: StopReason, queued: number): string {
    const left = `${plural(queued, 'item')} ${queued === 1 ? 'stays' : 'stay'} queued in ${this.#directory}`;
    const again = `\`sluice send --dir ${this.#directory}\``;
    const unqueued = this.#plan.files.length - this.#filesQueued;
    const notRead = [
      ...(unqueued > 0 ? [`${unqueued} of ${plural(this.#plan.files.length, 'file')} were not queued`] : []),
      ...(this.#recordsStoppedAt === undefined
        ? []
        : [`${this.#options.records?.label} was read up to line ${this.#recordsStoppedAt} only`]),
    ];
    const rest = notRead.length === 0 ? '' : `. Not sent at all: ${notRead.join('; ')}`;
    switch (reason.kind) {
      case 'key':
        return `${refusedKeyMessage(reason.status, reason.fromApi)}. ${left}; run ${again} ${reason.fromApi ? 'with a good key' : 'once the API answers there'} to deliver them (no need to name them again)${rest}`;
      case 'timeout':
        return `--timeout ${reason.seconds}s passed; ${left} and go out with the next ${again}${rest}`;
      case 'signal':
        return `${stopCause(reason.exitCode)}; ${left} and go out with the next ${again}${rest}`;
    }
  }

  #summary(): string {
    return [
      `${this.#delivered} delivered`,
      `${this.#dead} dead`,
      ...(this.#refused > 0 ? [`${this.#refused} refused`] : []),
      ...(this.#badLines > 0 ? [plural(this.#badLines, 'bad line')] : []),
    ].join(', ');
  }

  #describeSkipped(): string {
    const { symlinks, hidden, other } = this.#plan.skipped;
    const parts = [
      ...(symlinks > 0 ? [plural(symlinks, 'symbolic link')] : []),
      ...(hidden > 0 ? [`${hidden} hidden (--hidden sends them)`] : []),
      ...(other > 0 ? [`${other} neither file nor directory`] : []),
    ];
    return parts.length === 0 ? '' : `; skipped ${parts.join(', ')}`;
  }

  #state(): SendProgressState {
    return {
      filesTotal: this.#plan.files.length,
      bytesTotal: this.#plan.bytes,
      filesQueued: this.#filesQueued,
      filesDone: this.#filesDone,
      bytesDone: this.#bytesDone,
      records:
        this.#options.records === undefined
          ? undefined
          : { read: this.#recordsRead, done: this.#recordsDone },
      note: this.#note,
    };
  }

  #settle(
    id: string,
    kind: 'record' | 'blob',
    status: string,
    reason: { code: string; message: string } | undefined,
  ): void {
    if (reason === undefined) this.#delivered += 1;
    else this.#dead += 1;
    const why = reason === undefined ? '' : `\t${reason.code}: ${reason.message}`;
    if (kind === 'blob') {
      const file = this.#files.get(id);
      this.#files.delete(id);
      if (file !== undefined) {
        this.#filesDone += 1;
        this.#bytesDone += file.size;
      }
      if (this.#itemLines || reason !== undefined) {
        this.#progress.line(`${status}\t${id}\t${file?.path ?? '(queued earlier)'}${why}`);
      }
    } else {
      const line = this.#records.get(id);
      this.#records.delete(id);
      if (line !== undefined) this.#recordsDone += 1;
      if (reason !== undefined) {
        const where = line === undefined ? '(queued earlier)' : `${this.#options.records?.label}:${line}`;
        this.#progress.line(`${status}\t${id}\t${where}${why}`);
      }
    }
    this.#room.wake();
  }

  /** Runs an enqueue, waiting for room while the queue is full; `undefined` once the run stopped. */
  #withRoom<T>(enqueue: () => Promise<T>): Promise<T | undefined> {
    return this.#room.enqueue(enqueue, () => {
      this.#note = 'queue full: waiting for deliveries';
    });
  }

  async #queueFiles(): Promise<void> {
    for (const file of this.#plan.files) {
      if (this.#stop.signal.aborted) return;
      const type = this.#options.type;
      const contentType =
        this.#options.contentType ??
        CONTENT_TYPES[extname(file.path).toLowerCase()] ??
        'application/octet-stream';
      let id: string | undefined;
      let queued: { id: string } | undefined;
      let body: OpenedPath | undefined;
      try {
        const item = await fileItem(file, type, contentType);
        id = item.id;
        this.#files.set(id, file);
        body = await openedPath(file.source);
        const path = body.path;
        queued = await this.#withRoom(() =>
          this.#uploader.enqueueBlob({
            id: item.id,
            ts: item.ts,
            type,
            body: path,
            contentType,
            meta: { name: file.name },
          }),
        );
      } catch (error) {
        if (id !== undefined) this.#files.delete(id);
        if (!isRefusal(error, body?.path ?? file.source)) throw error;
        this.#refused += 1;
        this.#filesDone += 1;
        this.#bytesDone += file.size;
        this.#progress.line(`refused\t-\t${file.path}\t${(error as Error).message}`);
      } finally {
        await body?.close();
      }
      if (queued === undefined && this.#stop.signal.aborted) {
        if (id !== undefined) this.#files.delete(id);
        return;
      }
      this.#filesQueued += 1;
      this.#progress.update(this.#state());
    }
  }

  async #queueRecords(): Promise<void> {
    const input = this.#options.records;
    if (input === undefined || this.#stop.signal.aborted) return;
    const stream =
      input.handle === undefined ? process.stdin : input.handle.createReadStream({ autoClose: false });
    const pending = new Set<Promise<void>>();
    let failure: unknown;
    // Room for the server's data limit written with JSON escapes (up to 6 bytes a character), 1 MiB at least.
    const { maxItemDataBytes } = this.#uploader.stats().limits;
    const maxLineBytes = Math.max(MAX_RECORD_LINE_BYTES, 6 * maxItemDataBytes + 1024);
    // A stop does not wait for the next line (an idle stdin may bring none for hours): the input is closed,
    // which ends the read under way, or fails it.
    let closed = false;
    const close = (): void => {
      closed = true;
      stream.destroy();
    };
    this.#stop.signal.addEventListener('abort', close, { once: true });
    let last = 0;
    try {
      for await (const numbered of numberedLines(stream, maxLineBytes)) {
        const line = numbered.number;
        if (this.#stop.signal.aborted || failure !== undefined) {
          this.#recordsStoppedAt = line - 1;
          break;
        }
        last = line;
        if ('problem' in numbered) {
          this.#badLine(input.label, line, numbered.problem);
          continue;
        }
        if (numbered.text.trim() === '') continue;
        const record = parseRecordLine(numbered.text);
        if ('problem' in record) {
          this.#badLine(input.label, line, record.problem);
          continue;
        }
        const id = record.id ?? newItemId();
        this.#records.set(id, line);
        this.#recordsRead += 1;
        const unqueued = (): void => {
          this.#records.delete(id);
          this.#recordsRead -= 1;
        };
        const enqueued = this.#withRoom(() => this.#uploader.enqueue({ ...record, id })).then(
          (queued) => {
            if (queued === undefined) unqueued();
          },
          (error: unknown) => {
            unqueued();
            if (error instanceof TypeError || error instanceof RangeError) {
              this.#badLine(input.label, line, error.message);
            } else failure ??= error;
          },
        );
        pending.add(enqueued);
        void enqueued.finally(() => pending.delete(enqueued));
        if (pending.size >= RECORD_WINDOW) await Promise.race(pending);
      }
    } catch (error) {
      if (!closed) throw error;
    } finally {
      this.#stop.signal.removeEventListener('abort', close);
      await Promise.all(pending);
      if (input.handle === undefined) process.stdin.pause();
    }
    if (closed) this.#recordsStoppedAt ??= last;
    if (failure !== undefined) throw failure;
  }

  #badLine(label: string, line: number, problem: string): void {
    this.#badLines += 1;
    this.#progress.line(`sluice: ${label}:${line}: ${problem}`, process.stderr);
  }
}

/**
 * True when `enqueueBlob` refused this file rather than failed: invalid for the server (`TypeError`,
 * `RangeError`, e.g. above its blob size limit) or unreadable since it was counted (an error about the
 * file's own path). Errors writing DIR (disk full, I/O) end the run instead.
 */
function isRefusal(error: unknown, path: string | Buffer): boolean {
  if (error instanceof TypeError || error instanceof RangeError) return true;
  const failure = error as NodeJS.ErrnoException;
  const named =
    typeof path === 'string' || !Buffer.isBuffer(failure.path)
      ? failure.path === path.toString()
      : failure.path.equals(path);
  return named && ['ENOENT', 'EACCES', 'EPERM', 'EISDIR'].includes(failure.code ?? '');
}

/** A file's path as the SDK takes it (text), open until `close`. */
interface OpenedPath {
  readonly path: string;
  close(): Promise<void>;
}

/**
 * `source` as a path `enqueueBlob` can take. A path in exact bytes (a name that is not UTF-8, which no text
 * names) is opened and given as `/dev/fd/N`, which names the file it opened.
 */
async function openedPath(source: string | Buffer): Promise<OpenedPath> {
  if (typeof source === 'string') return { path: source, close: async () => undefined };
  const handle = await open(source, 'r');
  return { path: `/dev/fd/${handle.fd}`, close: () => handle.close() };
}

/**
 * The id and `ts` of a file's blob, derived from what the item is: its type, content type, name, modification
 * time and content. Sending the same unchanged file again (a re-run after an interrupt, a script run twice)
 * gives the same item, which the server answers `duplicate`: it is never stored twice. A file written again
 * since (a new modification time) is a new item. `ts` is the modification time, or 0 for one before 1970
 * (the server takes no earlier `ts`); the id keeps the time itself.
 */
async function fileItem(
  file: FileToSend,
  type: string,
  contentType: string,
): Promise<{ readonly id: string; readonly ts: number }> {
  const { mtimeMs } = await stat(file.source);
  const content = createHash('sha256');
  for await (const chunk of createReadStream(file.source)) content.update(chunk as Buffer);
  const modified = Math.floor(mtimeMs);
  return {
    id: `file-${sha256Hex(JSON.stringify([type, contentType, file.name, modified, content.digest('hex')]))}`,
    ts: Math.max(0, modified),
  };
}
