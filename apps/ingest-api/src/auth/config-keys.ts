import { type ApiKeySeed, type AuthConfig, DEV_API_KEY, isLoopbackHost } from '../config.js';

/** True when this start grants the development key: `API_KEYS` unset and a loopback `HOST`. */
export function grantsDevKey(config: AuthConfig): boolean {
  return config.apiKeys === undefined && isLoopbackHost(config.host);
}

/**
 * The keys this start's configuration grants: `API_KEYS`, else the development key on loopback,
 * else none (a non-loopback start then needs keys made with `sources:create`).
 */
export function configKeySeeds(config: AuthConfig): readonly ApiKeySeed[] {
  if (config.apiKeys !== undefined) return config.apiKeys;
  return grantsDevKey(config) ? [DEV_API_KEY] : [];
}
