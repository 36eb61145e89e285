import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import { hashApiKey } from '../auth/api-keys.js';
import { configKeySeeds, grantsDevKey } from '../auth/config-keys.js';
import { ApiKeySet } from '../auth/key-set.js';
import { reconcileConfigKeys } from '../auth/reconcile-config-keys.js';
import { type AuthConfig, DEV_API_KEY } from '../config.js';
import { UnauthorizedError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The source of the request's API key; set on every authenticated `/v1` request. */
    source: string;
  }
}

/** Options of {@link authPlugin}. */
export interface AuthPluginOptions {
  /** `apiKeys` and `host` decide the keys this start grants. */
  readonly config: AuthConfig;
  /** Milliseconds between reloads of the keys without a change notification (safety net). @default 5000 */
  readonly refreshMs?: number;
}

/** The key of an `Authorization: Bearer <key>` header, or `undefined`. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Authenticates every request of the scope it is registered in with `Authorization: Bearer <key>`,
 * before the body is read, and sets `request.source`. Unknown, disabled, revoked or missing keys get
 * 401. At registration it reconciles the configured keys (`API_KEYS` or the development key) with the
 * database and loads the valid keys into an {@link ApiKeySet}, so no request queries the database to
 * authenticate; changes made anywhere reach it within a second via `LISTEN/NOTIFY`.
 * @throws {ConfigError} at registration when this start may not run with its keys (see {@link reconcileConfigKeys}).
 */
export const authPlugin = fp<AuthPluginOptions>(
  async (app, { config, refreshMs }) => {
    const seeds = configKeySeeds(config);
    const { retired } = await reconcileConfigKeys(app.db, seeds, config.host);
    if (retired.length > 0) {
      app.log.info(
        { keyIds: retired },
        'disabled API keys an earlier start configured and this one does not',
      );
    }
    if (grantsDevKey(config)) {
      app.log.warn(
        { source: DEV_API_KEY.source },
        `API_KEYS is unset: accepting the development key "${DEV_API_KEY.key}" for source "${DEV_API_KEY.source}". ` +
          'Set API_KEYS=source:key before exposing this server.',
      );
    }
    const loads = new Counter({
      name: 'sluice_api_key_loads_total',
      help: 'Reads of the API keys table (start, key changes, periodic refresh); never one per request',
      registers: [app.metrics.registry],
    });
    const keys = new ApiKeySet(app.db, {
      refreshMs,
      onLoad: () => loads.inc(),
      logger: app.log,
    });
    await keys.start();
    // preClose: the database is still open, so listening can be stopped cleanly.
    app.addHook('preClose', () => keys.stop());

    app.decorateRequest('source', '');
    app.addHook('onRequest', async (request) => {
      const key = bearerToken(request);
      if (key === undefined) throw new UnauthorizedError('missing Authorization: Bearer <key> header');
      // A map lookup by the key's hash: an unknown key costs no query, whatever the traffic.
      const source = keys.sourceOf(hashApiKey(key));
      if (source === undefined) throw new UnauthorizedError('unknown, disabled or revoked API key');
      request.source = source;
    });
  },
  { name: 'sluice-auth', dependencies: ['sluice-db', 'sluice-metrics'] },
);
