import type { Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { unreadableReason } from './common.js';

/** A file `sluice send` uploads. */
export interface FileToSend {
  /**
   * Path as given or found (relative to the working directory when given relative), as text: a byte of a
   * name found in a walk that is not part of valid UTF-8 is written `\xHH`.
   */
  readonly path: string;
  /** The path to open: `path` itself, or its exact bytes when a name found in a walk is not UTF-8. */
  readonly source: string | Buffer;
  /**
   * Name stored in the blob's `meta.name`: the file's name, or `<dir>/<path inside it>` when found in a walk
   * (with `\xHH` as in `path`).
   */
  readonly name: string;
  /** Size when counted. */
  readonly size: number;
}

/** Every file of a `sluice send`, counted before anything is queued. */
export interface FilePlan {
  readonly files: FileToSend[];
  /** Sum of their sizes. */
  readonly bytes: number;
  /** Entries a directory walk left out: symbolic links, hidden entries, sockets, FIFOs, devices. */
  readonly skipped: { readonly symlinks: number; readonly hidden: number; readonly other: number };
}

/**
 * Expands the paths given to `sluice send` into files: a file as it is (a symbolic link named on the
 * command line is followed), a directory walked recursively in name order. Inside a walk, symbolic links
 * are not followed (no loops, nothing outside the tree) and hidden entries (names starting with `.`,
 * and everything below such a directory) are left out unless `hidden`; both are counted in `skipped`. A
 * file reached twice (by two paths, a link, or a walk and a name) is sent once. Each file is opened once
 * to be sure it can be read.
 * @throws {Error} naming the path, when one given or found cannot be read (nothing is queued then).
 */
export async function collectFiles(
  paths: readonly string[],
  options: { readonly hidden: boolean },
): Promise<FilePlan> {
  const files: FileToSend[] = [];
  const seen = new Set<string>();
  const skipped = { symlinks: 0, hidden: 0, other: 0 };
  let bytes = 0;
  /** Adds a file once, by its identity: a symbolic link or a hard link to a file already added adds nothing. */
  const add = async (found: Found, name: string, stats: Stats): Promise<void> => {
    const identity = `${stats.dev}:${stats.ino}`;
    if (seen.has(identity)) return;
    seen.add(identity);
    // Counted only once it opens: a file the user cannot read fails the command before anything is queued.
    await readOrThrow(found.path, async () => (await open(found.source, 'r')).close());
    files.push({ path: found.path, source: found.source, name, size: stats.size });
    bytes += stats.size;
  };

  /** Walks `directory`, found as `names` below `root` (whose own name starts `meta.name`). */
  const walk = async (root: string, directory: Found, names: readonly string[]): Promise<void> => {
    // Names as bytes: a name that is not UTF-8 read as text would name no file.
    const entries = await readOrThrow(directory.path, () =>
      readdir(directory.source, { withFileTypes: true, encoding: 'buffer' }),
    );
    const named = entries.map((entry) => ({ entry, bytes: entry.name as unknown as Buffer }));
    const texts = new Map(named.map(({ bytes }) => [bytes, nameText(bytes)]));
    named.sort((a, b) => {
      const [x, y] = [texts.get(a.bytes)!, texts.get(b.bytes)!];
      return x < y ? -1 : x > y ? 1 : 0;
    });
    for (const { entry, bytes } of named) {
      const text = texts.get(bytes)!;
      const found = child(directory, bytes, text);
      if (bytes[0] === DOT && !options.hidden) skipped.hidden += 1;
      else if (entry.isSymbolicLink()) skipped.symlinks += 1;
      else if (entry.isDirectory()) await walk(root, found, [...names, text]);
      else if (entry.isFile()) {
        const name = [basename(resolve(root)), ...names, text].join('/');
        await add(found, name, await readOrThrow(found.path, () => stat(found.source)));
      } else skipped.other += 1;
    }
  };

  for (const path of paths) {
    const stats = await readOrThrow(path, () => stat(path));
    if (stats.isDirectory()) await walk(path, { path, source: path }, []);
    else if (stats.isFile()) await add({ path, source: path }, basename(path), stats);
    else throw new Error(`${path} is neither a file nor a directory`);
  }
  return { files, bytes, skipped };
}

const DOT = 0x2e;

/** A path found: as text, and as what opens it (bytes once a name on the way is not UTF-8). */
interface Found {
  readonly path: string;
  readonly source: string | Buffer;
}

/** The entry `bytes` (shown as `text`) of `directory`. */
function child(directory: Found, bytes: Buffer, text: string): Found {
  const path = join(directory.path, text);
  const exact = typeof directory.source === 'string' && Buffer.from(text).equals(bytes);
  return {
    path,
    source: exact
      ? join(directory.source as string, text)
      : Buffer.concat([Buffer.from(directory.source), Buffer.from(sep), bytes]),
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A file name's bytes as text: decoded as UTF-8, each byte that is not part of a valid UTF-8 sequence
 * written `\xHH` (as `caf\xE9.log` for a Latin-1 `café.log`).
 */
export function nameText(bytes: Uint8Array): string {
  let text = '';
  let start = 0;
  let at = 0;
  while (at < bytes.length) {
    const length = sequenceLength(bytes, at);
    if (length > 0) {
      at += length;
      continue;
    }
    text += `${utf8.decode(bytes.subarray(start, at))}\\x${bytes[at]!.toString(16).toUpperCase().padStart(2, '0')}`;
    at += 1;
    start = at;
  }
  return text + utf8.decode(bytes.subarray(start));
}

/** The length of the valid UTF-8 sequence at `at`, or 0 when the byte there does not start one. */
function sequenceLength(bytes: Uint8Array, at: number): number {
  if (bytes[at]! < 0x80) return 1;
  for (let length = 2; length <= 4 && at + length <= bytes.length; length += 1) {
    try {
      utf8.decode(bytes.subarray(at, at + length));
      return length;
    } catch {
      // Not a whole sequence (yet).
    }
  }
  return 0;
}

async function readOrThrow<T>(path: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new Error(`cannot read ${path}: ${unreadableReason(error)}; nothing was queued`, { cause: error });
  }
}
