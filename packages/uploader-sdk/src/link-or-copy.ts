import { copyFile, link, open, rename, rm, stat } from 'node:fs/promises';
import { syncFile } from './durable-file.js';

/** `link` errors that mean the filesystem (or the pair of directories) cannot hard-link. */
const CANNOT_LINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK', 'ENOSYS']);

/**
 * Gives `source`'s bytes a second name, `target`: a hard link (no bytes copied, atomic), or where the
 * filesystem has none, a copy written beside `target`, fsync'd, then renamed into place. The caller
 * fsyncs `target`'s directory. Fails with `ENOENT` when `source` is missing and `EEXIST` when `target`
 * exists.
 */
export async function linkOrCopy(source: string, target: string): Promise<void> {
  try {
    await link(source, target);
    return;
  } catch (error) {
    if (!CANNOT_LINK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
  const exists = await stat(target).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
  if (exists)
    throw Object.assign(new Error(`EEXIST: file already exists, link '${target}'`), { code: 'EEXIST' });
  const partial = `${target}.partial`;
  try {
    await copyFile(source, partial);
    const handle = await open(partial, 'r+');
    try {
      await syncFile(handle);
    } finally {
      await handle.close();
    }
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
}
