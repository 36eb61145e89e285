import { randomBytes } from 'node:crypto';
import { sha256Hex } from '@sluice/contracts';
import { sql } from 'drizzle-orm';
import type { ApiKeySeed } from '../config.js';
import type { Database } from '../db/database.js';
import { apiKeys, sources } from '../db/schema/index.js';

/** Source names: 1–64 characters of `[A-Za-z0-9._-]`. */
export const SOURCE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

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
 * Makes sure every `source:key` pair exists (sources created as needed). Existing rows are left
 * as they are, so a key disabled in the database stays disabled.
 */
export async function seedApiKeys(db: Database, seeds: readonly ApiKeySeed[]): Promise<void> {
  if (seeds.length === 0) return;
  await db.transaction(async (tx) => {
    await tx
      .insert(sources)
      .values([...new Set(seeds.map((seed) => seed.source))].map((name) => ({ name })))
      .onConflictDoNothing();
    await tx
      .insert(apiKeys)
      .values(seeds.map((seed) => ({ keyHash: hashApiKey(seed.key), source: seed.source })))
      .onConflictDoNothing();
  });
}

/** Creates the source if needed and a new key for it; returns the key, which is stored only hashed. */
export async function createSourceKey(db: Database, source: string): Promise<string> {
  if (!isValidSourceName(source)) {
    throw new TypeError(
      `source name must be 1-64 characters of [A-Za-z0-9._-], got ${JSON.stringify(source)}`,
    );
  }
  const key = generateApiKey();
  await seedApiKeys(db, [{ source, key }]);
  return key;
}

/** The enabled key row stored under a key hash, or `undefined` when the key is unknown or disabled. */
export async function findEnabledKey(
  db: Database,
  keyHash: string,
): Promise<{ source: string; keyHash: string } | undefined> {
  const rows = await db.use((orm) =>
    orm
      .select({ source: apiKeys.source, keyHash: apiKeys.keyHash })
      .from(apiKeys)
      .where(sql`${apiKeys.keyHash} = ${keyHash} and not ${apiKeys.disabled}`),
  );
  return rows[0];
}
