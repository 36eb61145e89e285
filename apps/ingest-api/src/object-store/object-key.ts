import { InvalidObjectKeyError } from './object-store-error.js';

const KEY_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/**
 * Checks that a key is a relative path of plain segments, so no adapter can be steered outside its
 * bucket prefix or directory.
 * @throws {InvalidObjectKeyError} for empty, absolute, `.`/`..` or otherwise unusual keys.
 */
export function assertObjectKey(key: string): void {
  if (key.length > 1024 || !KEY_PATTERN.test(key) || key.split('/').some((s) => s === '.' || s === '..')) {
    throw new InvalidObjectKeyError(`invalid object key ${JSON.stringify(key)}`);
  }
}
