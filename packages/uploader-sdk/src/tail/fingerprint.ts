import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** At most this many bytes from a file's start make up its fingerprint. */
export const FINGERPRINT_BYTES = 1024;

/**
 * A file's fingerprint: 22 base64url characters of the SHA-256 of its first line (at most the first
 * {@link FINGERPRINT_BYTES} bytes, newline included) and its inode number. The first line identifies the
 * content (a file recreated or rewritten gets a new one); the inode tells apart two files that begin
 * alike. It is stable as soon as the first line is complete, which is why it is undefined before, unless
 * `force` (a rotated file that will not grow any more) takes what there is. Undefined for an empty file.
 */
export async function readFingerprint(
  handle: FileHandle,
  ino: number,
  force: boolean,
): Promise<string | undefined> {
  const head = Buffer.alloc(FINGERPRINT_BYTES);
  const { bytesRead } = await handle.read(head, 0, FINGERPRINT_BYTES, 0);
  if (bytesRead === 0) return undefined;
  const newline = head.subarray(0, bytesRead).indexOf(0x0a);
  let length: number;
  if (newline >= 0) length = newline + 1;
  else if (bytesRead === FINGERPRINT_BYTES || force) length = bytesRead;
  else return undefined;
  return createHash('sha256')
    .update(head.subarray(0, length))
    .update(`\0${ino}`)
    .digest('base64url')
    .slice(0, 22);
}
