import { KEY_ID_PATTERN } from '@sluice/contracts';
import type { Database } from '../db/database.js';
import { generateApiKey, hashApiKey, isValidSourceName, KEY_CHANGES_CHANNEL, keyIdOf } from './api-keys.js';

/** A key made by {@link createSourceKey}. */
export interface CreatedKey {
  readonly source: string;
  /** The key itself; it is stored only hashed, so this is the one time it can be shown. */
  readonly key: string;
  /** Its public id, for `sources:list` and `sources:revoke`. */
  readonly keyId: string;
}

/** One stored key, without the key. */
export interface KeyInfo {
  readonly source: string;
  readonly keyId: string;
  /** `config`: from `API_KEYS` or the development key; `cli`: from `sources:create`. */
  readonly origin: 'config' | 'cli';
  /** `disabled`: a config key the latest start did not configure. */
  readonly state: 'active' | 'disabled' | 'revoked';
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

// One statement: the source (if new), the key, and a notification that running instances act on after
// commit. Foreign keys are checked at the end of the statement, so the key may name the new source.
const CREATE_KEY_SQL = `
with source as (insert into sources (name) values ($2) on conflict do nothing),
     created as (insert into api_keys (key_hash, source, origin) values ($1, $2, 'cli') returning key_hash)
select key_hash, pg_notify('${KEY_CHANGES_CHANNEL}', '') from created`;

const LIST_KEYS_SQL = `
select source, left(key_hash, 12) as hash_prefix, origin, created_at, revoked_at,
       case when revoked_at is not null then 'revoked' when disabled then 'disabled' else 'active' end as state
  from api_keys
 order by source, created_at, key_hash`;

// A key id is a prefix of the hash; it is 48 bits, so two keys sharing one is not a practical concern,
// and should it happen both are revoked, which errs on the safe side.
const REVOKE_KEYS_SQL = `
with revoked as (
  update api_keys set revoked_at = now()
   where revoked_at is null and (source = $1 or left(key_hash, 12) = $2)
  returning source, key_hash)
select source, key_hash, pg_notify('${KEY_CHANGES_CHANNEL}', '') from revoked`;

/**
 * Creates the source if needed and a new random key for it (origin `cli`: it stays valid across
 * restarts until revoked), and tells running instances, which accept it within a second.
 * @throws {TypeError} for an invalid source name.
 */
export async function createSourceKey(db: Database, source: string): Promise<CreatedKey> {
  if (!isValidSourceName(source)) {
    throw new TypeError(
      `source name must be 1-64 characters of [A-Za-z0-9._-], got ${JSON.stringify(source)}`,
    );
  }
  const key = generateApiKey();
  const keyHash = hashApiKey(key);
  await db.query(CREATE_KEY_SQL, [keyHash, source]);
  return { source, key, keyId: keyIdOf(keyHash) };
}

/** Every stored key, by source, oldest first; never the key or its full hash. */
export async function listKeys(db: Database): Promise<KeyInfo[]> {
  const rows = await db.query<{
    source: string;
    hash_prefix: string;
    origin: 'config' | 'cli';
    state: KeyInfo['state'];
    created_at: Date | string;
    revoked_at: Date | string | null;
  }>(LIST_KEYS_SQL);
  return rows.map((row) => ({
    source: row.source,
    keyId: `key_${row.hash_prefix}`,
    origin: row.origin,
    state: row.state,
    createdAt: new Date(row.created_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
  }));
}

/**
 * Revokes a key by its id (`key_…`) or every key of a source by its name, for good, and tells running
 * instances, which refuse the keys within a second. A revoked key listed in `API_KEYS` stops the next
 * start instead of coming back.
 * @returns the keys revoked now (none when nothing matched or all were already revoked).
 */
export async function revokeKeys(
  db: Database,
  sourceOrKeyId: string,
): Promise<{ source: string; keyId: string }[]> {
  const byId = KEY_ID_PATTERN.test(sourceOrKeyId);
  const rows = await db.query<{ source: string; key_hash: string }>(
    REVOKE_KEYS_SQL,
    byId ? [null, sourceOrKeyId.slice(4)] : [sourceOrKeyId, null],
  );
  return rows.map((row) => ({ source: row.source, keyId: keyIdOf(row.key_hash) }));
}
