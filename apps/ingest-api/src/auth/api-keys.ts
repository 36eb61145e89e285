import { randomBytes } from 'node:crypto';
import { SOURCE_NAME_PATTERN, sha256Hex } from '@sluice/contracts';

/** True when `name` is a valid source name. */
export function isValidSourceName(name: unknown): name is string {
  return typeof name === 'string' && SOURCE_NAME_PATTERN.test(name);
}

/** How API keys are stored: SHA-256 hex of the key's UTF-8 bytes. */
export function hashApiKey(key: string): string {
  return sha256Hex(key);
}

/** A new random API key: 32 random bytes, base64url. */
export function generateApiKey(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The public id of a stored key, from its hash: shown by `sources:create` and `sources:list`, taken by
 * `sources:revoke`. Whoever holds a key can work out its id; the id reveals nothing of the key.
 */
export function keyIdOf(keyHash: string): string {
  return `key_${keyHash.slice(0, 12)}`;
}

/** The `NOTIFY` channel on which every change to `api_keys` is announced to running instances. */
export const KEY_CHANGES_CHANNEL = 'sluice_api_keys';
