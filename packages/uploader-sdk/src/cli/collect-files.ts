import type { Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { unreadableReason } from './common.js';

/** A file `sluice send` uploads. */
export interface FileToSend {
  /** Path as given or found (relative to the working directory when given relative). */
  readonly path: string;
  /** Name stored in the blob's `meta.name`: the file's name, or `<dir>/<path inside it>` when found in a walk. */
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
  const add = async (path: string, name: string, stats: Stats): Promise<void> => {
    const identity = `${stats.dev}:${stats.ino}`;
    if (seen.has(identity)) return;
    seen.add(identity);
    // Counted only once it opens: a file the user cannot read fails the command before anything is queued.
    await readOrThrow(path, async () => (await open(path, 'r')).close());
    files.push({ path, name, size: stats.size });
    bytes += stats.size;
  };

  const walk = async (root: string, directory: string): Promise<void> => {
    const entries = await readOrThrow(directory, () => readdir(directory, { withFileTypes: true }));
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(directory, entry.name);
      if (entry.name.startsWith('.') && !options.hidden) skipped.hidden += 1;
      else if (entry.isSymbolicLink()) skipped.symlinks += 1;
      else if (entry.isDirectory()) await walk(root, path);
      else if (entry.isFile()) {
        const name = [basename(resolve(root)), ...relative(root, path).split(sep)].join('/');
        await add(path, name, await readOrThrow(path, () => stat(path)));
      } else skipped.other += 1;
    }
  };

  for (const path of paths) {
    const stats = await readOrThrow(path, () => stat(path));
    if (stats.isDirectory()) await walk(path, path);
    else if (stats.isFile()) await add(path, basename(path), stats);
    else throw new Error(`${path} is neither a file nor a directory`);
  }
  return { files, bytes, skipped };
}

async function readOrThrow<T>(path: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new Error(`cannot read ${path}: ${unreadableReason(error)}; nothing was queued`, { cause: error });
  }
}
