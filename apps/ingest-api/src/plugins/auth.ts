import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { findEnabledKey, hashApiKey } from '../auth/api-keys.js';
import { UnauthorizedError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The source of the request's API key; set on every authenticated `/v1` request. */
    source: string;
  }
}

/** Options of {@link authPlugin}. */
export interface AuthPluginOptions {
  /**
   * Milliseconds a key lookup (found or not) is remembered, so steady traffic does not query the
   * keys table per request. A disabled key stops working within this time.
   * @default 5000
   */
  readonly cacheTtlMs?: number;
}

interface CachedKey {
  /** The stored row, or `undefined` for an unknown or disabled key. */
  readonly row: { readonly source: string; readonly keyHash: string } | undefined;
  readonly expiresAt: number;
}

const MAX_CACHED_KEYS = 10_000;

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Authenticates every request of the scope it is registered in with `Authorization: Bearer <key>`,
 * before the body is read, and sets `request.source`. Unknown, disabled or missing keys get 401.
 */
export const authPlugin = fp<AuthPluginOptions>(
  async (app, options) => {
    const ttlMs = options.cacheTtlMs ?? 5000;
    const cache = new Map<string, CachedKey>();
    app.decorateRequest('source', '');
    app.addHook('onRequest', async (request) => {
      const key = bearerToken(request);
      if (key === undefined) throw new UnauthorizedError('missing Authorization: Bearer <key> header');
      const keyHash = hashApiKey(key);
      const now = Date.now();
      let entry = cache.get(keyHash);
      if (entry === undefined || entry.expiresAt <= now) {
        const row = await findEnabledKey(app.db, keyHash);
        if (cache.size >= MAX_CACHED_KEYS) cache.clear();
        entry = { row, expiresAt: now + ttlMs };
        cache.set(keyHash, entry);
      }
      // Lookups go by hash, which reveals nothing about the key; the stored hash is still compared
      // in constant time so that no lookup quirk (padding, collation) can admit a different key.
      const stored = entry.row;
      const expected = Buffer.from(keyHash, 'hex');
      const actual = Buffer.from(stored?.keyHash ?? '', 'hex');
      if (stored === undefined || actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
        throw new UnauthorizedError('unknown or disabled API key');
      }
      request.source = stored.source;
    });
  },
  { name: 'sluice-auth', dependencies: ['sluice-db'] },
);
