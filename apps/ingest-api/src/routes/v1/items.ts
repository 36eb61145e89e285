import { ID_PATTERN, type ItemStatusResponse, ROUTES } from '@sluice/contracts';
import { and, eq } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { blobs, items } from '../../db/schema/index.js';
import { NotFoundError } from '../../errors.js';

/** `GET /v1/items/:id`: one item of the caller's source; another source's id is 404 like an unknown one. */
export const itemRoutes: FastifyPluginAsync = async (app) => {
  app.route<{ Params: { id: string } }>({
    method: ROUTES.item.method,
    url: ROUTES.item.path,
    handler: async (request): Promise<ItemStatusResponse> => {
      const { id } = request.params;
      // No item has any other id, and PostgreSQL would refuse some of them (U+0000) with an error.
      if (!ID_PATTERN.test(id)) throw new NotFoundError(`no item ${JSON.stringify(id.slice(0, 128))}`);
      const rows = await app.db.use((db) =>
        db
          .select({ item: items, blob: blobs })
          .from(items)
          .leftJoin(blobs, and(eq(blobs.source, items.source), eq(blobs.id, items.id)))
          .where(and(eq(items.source, request.source), eq(items.id, id)))
          .limit(1),
      );
      const item = rows[0]?.item;
      const blob = rows[0]?.blob;
      if (item === undefined) throw new NotFoundError(`no item ${id}`);
      return {
        id: item.id,
        type: item.type,
        ts: item.ts,
        receivedAt: item.receivedAt.getTime(),
        kind: item.kind,
        hash: item.hash,
        ...(blob
          ? {
              blob: {
                state: blob.state,
                size: blob.size,
                contentType: blob.contentType,
                sha256: blob.sha256,
                ...(blob.objectKey === null ? {} : { objectKey: blob.objectKey }),
                attempts: blob.attempts,
                ...(blob.lastError === null ? {} : { lastError: blob.lastError }),
              },
            }
          : {}),
      };
    },
  });
};
