import type { ApiKeySeed } from '../config.js';
import type { Database } from '../db/database.js';
import { ConfigError } from '../errors.js';
import { hashApiKey, KEY_CHANGES_CHANNEL, keyIdOf } from './api-keys.js';

/** What {@link reconcileConfigKeys} changed. */
export interface ReconciledKeys {
  /** Ids of config keys of earlier starts that this start no longer configures, now disabled. */
  readonly retired: readonly string[];
}

const REVOKED_AMONG_SQL = `
select key_hash, source from api_keys where key_hash = any($1::text[]) and revoked_at is not null`;

const OF_OTHER_SOURCES_SQL = `
select k.key_hash, k.source from api_keys k
  join unnest($1::text[], $2::text[]) as s(key_hash, source) on s.key_hash = k.key_hash
 where k.source <> s.source`;

const ACTIVE_CLI_KEYS_SQL = `
select count(*)::int as count from api_keys where origin = 'cli' and not disabled and revoked_at is null`;

// One statement, so a start never leaves the keys half reconciled: the configured keys are inserted or
// re-enabled as config keys, and every other config key — an earlier start's API_KEYS or development
// key — is disabled. sources:create keys (origin cli) are left alone. Foreign keys are checked at the
// end of the statement, so new keys may name new sources.
const RECONCILE_SQL = `
with seeds as (select * from unnest($1::text[], $2::text[]) as s(key_hash, source)),
     new_sources as (insert into sources (name) select distinct source from seeds on conflict do nothing),
     configured as (
       insert into api_keys (key_hash, source, origin) select key_hash, source, 'config' from seeds
       on conflict (key_hash) do update set origin = 'config', disabled = false
        where api_keys.revoked_at is null
       returning key_hash),
     retired as (
       update api_keys set disabled = true
        where origin = 'config' and not disabled and key_hash <> all($1::text[])
       returning key_hash)
select (select count(*) from configured)::int as configured,
       coalesce((select array_agg(key_hash) from retired), '{}') as retired,
       pg_notify('${KEY_CHANGES_CHANNEL}', '') as notified`;

/**
 * Makes the stored config keys match this start's: afterwards the valid keys are exactly `seeds` plus
 * the keys made with `sources:create` (SPEC: a development key never outlives a start that did not
 * grant it). Running instances are told to reload their keys.
 * @param host the listen address, for the refusal message.
 * @throws {ConfigError} when `seeds` contains a revoked key (revocation is final), a key of another
 *   source (a key never moves), or when `seeds` is empty and no `sources:create` key is valid (a
 *   non-loopback start without keys).
 */
export async function reconcileConfigKeys(
  db: Database,
  seeds: readonly ApiKeySeed[],
  host: string,
): Promise<ReconciledKeys> {
  const hashes = seeds.map((seed) => hashApiKey(seed.key));
  const revoked = await db.query<{ key_hash: string; source: string }>(REVOKED_AMONG_SQL, [hashes]);
  if (revoked.length > 0) {
    const names = revoked.map((row) => `${keyIdOf(row.key_hash)} (source "${row.source}")`).join(', ');
    throw new ConfigError(
      `refusing to start: the configured key(s) ${names} were revoked with sources:revoke, and revocation is final; ` +
        'remove them from API_KEYS (for the development key: set API_KEYS)',
    );
  }
  const moved = await db.query<{ key_hash: string; source: string }>(OF_OTHER_SOURCES_SQL, [
    hashes,
    seeds.map((seed) => seed.source),
  ]);
  if (moved.length > 0) {
    const names = moved
      .map((row) => `${keyIdOf(row.key_hash)} is the key of source "${row.source}"`)
      .join(', ');
    throw new ConfigError(
      `refusing to start: in API_KEYS, ${names}; a key stays with its source (the items it sent would be stored again under the other one when retried): ` +
        'give the new source a key of its own',
    );
  }
  if (seeds.length === 0) {
    const [row] = await db.query<{ count: number }>(ACTIVE_CLI_KEYS_SQL);
    if (Number(row?.count ?? 0) === 0) {
      throw new ConfigError(
        `refusing to listen on ${host} without API keys: API_KEYS is unset, the development key is only granted on loopback, ` +
          'and this database has no key made with sources:create. Either set API_KEYS=source:key[,source:key…], ' +
          'or create a key first with `pnpm --filter @sluice/ingest-api sources:create NAME` run with the same ' +
          'DATABASE_URL (or, for the embedded database, the same DATA_DIR while the server is stopped), then start again',
      );
    }
  }
  const [result] = await db.query<{ retired: string[] }>(RECONCILE_SQL, [
    hashes,
    seeds.map((seed) => seed.source),
  ]);
  return { retired: (result?.retired ?? []).map(keyIdOf) };
}
