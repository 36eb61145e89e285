import {
  type BlobOverview,
  type FailedBlobPage,
  FailedBlobQuerySchema,
  RETRIED_LISTED,
  type RetriedBlobs,
  RetryBlobsRequestSchema,
  ROUTES,
} from '@sluice/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { blobOverview, failedBlobs } from '../../admin/blob-statements.js';
import { parseInput } from '../../admin/parse-input.js';
import { beginStoring } from '../../error-handler.js';
import { retryAllFailedBlobs, retryFailedBlobs } from '../../worker/retry-failed-blobs.js';

/**
 * Blob states: `GET /admin/v1/blobs` (counts by state, backlog age), `GET /admin/v1/blobs/failed`
 * (keyset pages with `lastError`) and `POST /admin/v1/blobs/retry` (failed blobs back to pending).
 */
export const adminBlobRoutes: FastifyPluginAsync = async (app) => {
  app.get(ROUTES.adminBlobs.path, async (): Promise<BlobOverview> => blobOverview(app.db));

  app.get(ROUTES.adminFailedBlobs.path, async (request): Promise<FailedBlobPage> => {
    const { limit, cursor } = parseInput(FailedBlobQuerySchema, request.query, 'query');
    const page = await failedBlobs(app.db, limit, cursor);
    return {
      blobs: page.rows.map((row) => ({
        source: row.source,
        id: row.id,
        type: row.type,
        size: Number(row.size),
        contentType: row.content_type,
        attempts: Number(row.attempts),
        lastError: row.last_error ?? '',
        receivedAt: Number(row.received_ms),
      })),
      ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
    };
  });

  app.post(ROUTES.adminRetryBlobs.path, async (request): Promise<RetriedBlobs> => {
    const selection = parseInput(RetryBlobsRequestSchema, request.body, 'body');
    beginStoring(request);
    const listed: { source: string; id: string }[] = [];
    const keep = (retried: readonly { source: string; id: string }[]) => {
      for (const { source, id } of retried) if (listed.length < RETRIED_LISTED) listed.push({ source, id });
    };
    let count: number;
    if ('all' in selection) count = await retryAllFailedBlobs(app.db, keep);
    else {
      const retried = await retryFailedBlobs(app.db, { items: selection.items });
      keep(retried);
      count = retried.length;
    }
    request.log.info({ count }, 'failed blobs retried via the admin API');
    return { count, retried: listed };
  });
};
