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
  return (await readIdentity(handle, ino, force))?.fingerprint;
}

/** A file's fingerprint, and `head`: the hash of its first line alone (the same for a copy of it). */
export interface FileIdentity {
  readonly fingerprint: string;
  /** 22 base64url characters of the SHA-256 of the first line, without the inode. */
  readonly head: string;
}

/** {@link readFingerprint} and the first line's own hash, which a copy of the file shares. */
export async function readIdentity(
  handle: FileHandle,
  ino: number,
  force: boolean,
): Promise<FileIdentity | undefined> {
  const head = Buffer.alloc(FINGERPRINT_BYTES);
  const { bytesRead } = await handle.read(head, 0, FINGERPRINT_BYTES, 0);
  if (bytesRead === 0) return undefined;
  const newline = head.subarray(0, bytesRead).indexOf(0x0a);
  let length: number;
  if (newline >= 0) length = newline + 1;
  else if (bytesRead === FINGERPRINT_BYTES || force) length = bytesRead;
  else return undefined;
  const line = head.subarray(0, length);
  return {
    fingerprint: createHash('sha256').update(line).update(`\0${ino}`).digest('base64url').slice(0, 22),
    head: createHash('sha256').update(line).digest('base64url').slice(0, 22),
  };
}

/**
 * 22 base64url characters of the SHA-256 of the (at most {@link FINGERPRINT_BYTES}) bytes just before
 * `offset`; undefined at offset 0 or when the file no longer has them.
 */
export async function readBefore(handle: FileHandle, offset: number): Promise<string | undefined> {
  const length = Math.min(offset, FINGERPRINT_BYTES);
  if (length === 0) return undefined;
  const bytes = Buffer.alloc(length);
  const { bytesRead } = await handle.read(bytes, 0, length, offset - length);
  if (bytesRead !== length) return undefined;
  return createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
}
