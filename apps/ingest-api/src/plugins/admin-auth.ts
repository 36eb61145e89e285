import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { type AdminConfig, adminKeyOf, DEV_ADMIN_KEY, grantsDevAdminKey } from '../config.js';
import { RateLimitedError, UnauthorizedError } from '../errors.js';
import { bearerToken } from './auth.js';

/** Options of {@link adminAuthPlugin}. */
export interface AdminAuthPluginOptions {
  /** The key, the listen address and the failure limits. */
  readonly config: AdminConfig;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

// Enough addresses for any real set of operators; an attacker cycling through more only evicts the
// oldest buckets, which is no worse than their first attempt.
const MAX_TRACKED_ADDRESSES = 10_000;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The address failures are counted by: the IPv4 address, or the /64 of an IPv6 one (one host's share). */
export function clientOf(ip: string): string {
  if (!ip.includes(':') || ip.startsWith('::ffff:')) return ip;
  const address = ip.split('%')[0] ?? '';
  const [head = '', tail = ''] = address.split('::');
  const first = head === '' ? [] : head.split(':');
  const last = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...first, ...Array<string>(Math.max(0, 8 - first.length - last.length)).fill('0'), ...last]
    : first;
  return `${groups
    .slice(0, 4)
    .map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** Headers a reverse proxy adds: a request carrying one did not come from this machine's own user. */
const FORWARDED_HEADERS = ['x-forwarded-for', 'forwarded', 'via'] as const;

/**
 * Authenticates every request of the scope it is registered in with `Authorization: Bearer <ADMIN_KEY>`
 * (compared in constant time, as SHA-256 digests so the key's length does not show). Anything else,
 * source keys included, gets 401. Failed attempts are limited per client address by a token bucket;
 * an address out of tokens gets 429 `RATE_LIMITED` with `Retry-After` before its key is even looked at,
 * so guessing the key is no faster than `authFailuresPerSecond` per address.
 * @throws {ConfigError} at registration on a non-loopback address without `ADMIN_KEY`.
 */
export const adminAuthPlugin = fp<AdminAuthPluginOptions>(
  async (app, { config }) => {
    const { authFailureBurst: failureBurst, authFailuresPerSecond: failuresPerSecond } = config;
    const expected = digest(adminKeyOf(config));
    const devKey = grantsDevAdminKey(config);
    if (devKey) {
      app.log.warn(
        `ADMIN_KEY is unset: the admin API accepts the development admin key "${DEV_ADMIN_KEY}" (loopback only). ` +
          'Set ADMIN_KEY before exposing this server.',
      );
    }
    const failures = new Map<string, Bucket>();

    function refill(client: string, now: number): Bucket | undefined {
      const bucket = failures.get(client);
      if (bucket === undefined) return undefined;
      bucket.tokens = Math.min(
        failureBurst,
        bucket.tokens + ((now - bucket.updatedAt) / 1000) * failuresPerSecond,
      );
      bucket.updatedAt = now;
      if (bucket.tokens < failureBurst) return bucket;
      // Refilled: forgotten, and a new failure starts a new bucket.
      failures.delete(client);
      return undefined;
    }

    app.addHook('onRequest', async (request) => {
      // The admin key is checked first: failures from a shared address (a balancer, NAT) must not lock
      // the holder of the key out, and a key of 16+ characters gains nothing from slowed guessing alone.
      const key = bearerToken(request);
      if (key !== undefined && timingSafeEqual(digest(key), expected)) {
        // A proxy on this machine would hand the published development key to anyone who reaches it.
        if (devKey && FORWARDED_HEADERS.some((name) => request.headers[name] !== undefined)) {
          throw new UnauthorizedError(
            'the development admin key is accepted only from this machine, not through a proxy; set ADMIN_KEY',
          );
        }
        return;
      }
      // The socket may be gone before this hook runs (no address): such requests share one bucket.
      const client = clientOf(request.ip ?? '');
      const now = Date.now();
      const bucket = refill(client, now);
      if (bucket !== undefined && bucket.tokens < 1) {
        const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / failuresPerSecond));
        throw new RateLimitedError(
          'too many failed admin authentications from this address',
          retryAfterSeconds,
        );
      }
      if (bucket === undefined) {
        if (failures.size >= MAX_TRACKED_ADDRESSES) {
          const oldest = failures.keys().next().value;
          if (oldest !== undefined) failures.delete(oldest);
        }
        failures.set(client, { tokens: failureBurst - 1, updatedAt: now });
      } else {
        bucket.tokens -= 1;
      }
      throw new UnauthorizedError(
        key === undefined ? 'missing Authorization: Bearer <admin key> header' : 'not the admin key',
      );
    });
  },
  { name: 'sluice-admin-auth' },
);
