import {
  type AdminSource,
  type CreatedKey,
  CreateSourceRequestSchema,
  KeyIdSchema,
  type RevokedKey,
  ROUTES,
  type SourceList,
} from '@sluice/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../admin/parse-input.js';
import { createSourceKey, listKeys, revokeKeys } from '../../auth/source-keys.js';
import { beginStoring } from '../../error-handler.js';
import { NotFoundError } from '../../errors.js';

const SOURCES_SQL = 'select name, created_at from sources order by name';

const RevokeParamsSchema = z.strictObject({ keyId: KeyIdSchema });

/**
 * Sources and their keys: `GET /admin/v1/sources` (never a key or its hash, only its public id),
 * `POST /admin/v1/sources` (a new key, shown once; the source is created if new) and
 * `POST /admin/v1/keys/:keyId/revoke` (refused by every instance within a second).
 */
export const adminSourceRoutes: FastifyPluginAsync = async (app) => {
  app.get(ROUTES.adminSources.path, async (): Promise<SourceList> => {
    const [sourceRows, keys] = await Promise.all([
      app.db.query<{ name: string; created_at: Date | string }>(SOURCES_SQL),
      listKeys(app.db),
    ]);
    const byName = new Map<string, AdminSource>(
      sourceRows.map((row) => [
        row.name,
        { name: row.name, createdAt: new Date(row.created_at).getTime(), keys: [] },
      ]),
    );
    for (const key of keys) {
      byName.get(key.source)?.keys.push({
        keyId: key.keyId,
        origin: key.origin,
        state: key.state,
        createdAt: key.createdAt.getTime(),
        ...(key.revokedAt === null ? {} : { revokedAt: key.revokedAt.getTime() }),
      });
    }
    return { sources: [...byName.values()] };
  });

  app.post(ROUTES.adminCreateSource.path, async (request): Promise<CreatedKey> => {
    const { name } = parseInput(CreateSourceRequestSchema, request.body, 'body');
    beginStoring(request);
    const created = await createSourceKey(app.db, name);
    request.log.info({ source: created.source, keyId: created.keyId }, 'API key created via the admin API');
    return { source: created.source, keyId: created.keyId, key: created.key };
  });

  app.post<{ Params: { keyId: string } }>(
    ROUTES.adminRevokeKey.path,
    async (request): Promise<RevokedKey> => {
      const { keyId } = parseInput(RevokeParamsSchema, request.params, 'path');
      beginStoring(request);
      const revoked = await revokeKeys(app.db, keyId);
      const now = revoked.find((key) => key.keyId === keyId);
      if (now !== undefined) {
        request.log.info({ source: now.source, keyId }, 'API key revoked via the admin API');
        return { keyId, source: now.source };
      }
      // Revoking twice answers like the first time; only an unknown id is 404.
      const known = (await listKeys(app.db)).find((key) => key.keyId === keyId);
      if (known === undefined) throw new NotFoundError(`no key ${keyId}`);
      return { keyId, source: known.source };
    },
  );
};
