import { Readable } from 'node:stream';
import {
  type AdminItem,
  type AdminItemSummary,
  type ItemPage,
  ItemRefSchema,
  ItemSearchQuerySchema,
  isInlineImage,
  ROUTES,
} from '@sluice/contracts';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import {
  type BlobLocationRow,
  blobLocation,
  findItem,
  hasStagedBytes,
  type ItemSummaryRow,
  searchItems,
} from '../../admin/item-statements.js';
import { parseInput } from '../../admin/parse-input.js';
import { NotFoundError, ObjectStoreUnavailableError, ServerFault } from '../../errors.js';
import { StagedBytesCorruptError, StagedBytesMissingError } from '../../worker/blob-worker-errors.js';
import { stagedBody } from '../../worker/staged-body.js';

function summaryOf(row: ItemSummaryRow): AdminItemSummary {
  return {
    source: row.source,
    id: row.id,
    kind: row.kind,
    type: row.type,
    ts: Number(row.ts),
    receivedAt: Number(row.received_ms),
    size: Number(row.size),
    ...(row.blob_state === null ? {} : { blobState: row.blob_state }),
  };
}

/**
 * The headers of a blob's bytes: its size, and what keeps attacker-chosen bytes from running as a page of
 * the console's origin (no sniffing, a sandbox without any permission, a download for anything but a
 * raster image).
 */
function setBlobHeaders(reply: FastifyReply, location: BlobLocationRow): FastifyReply {
  const contentType = location.content_type;
  return reply
    .header('content-type', contentType)
    .header('content-length', String(location.size))
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "sandbox; default-src 'none'")
    .header('cache-control', 'private, no-store')
    .header('content-disposition', isInlineImage(contentType) ? 'inline' : 'attachment');
}

/** `action` on the object store, its failure a 503 that names the blob. */
function fromObjectStore<T>(id: string, action: () => Promise<T>): Promise<T> {
  return action().catch((error: unknown) => {
    throw new ObjectStoreUnavailableError(`could not read blob ${id} from the object store`, {
      cause: error,
    });
  });
}

/**
 * Where a blob's bytes are: in staging when `staged` finds them there (it is not asked once the blob is
 * uploaded), else in the object store under the row's key, the row read again since the worker may have
 * uploaded and unstaged the blob meanwhile. 404 for no such blob, or bytes nowhere.
 */
async function locateBytes<T>(
  app: FastifyInstance,
  source: string,
  id: string,
  staged: (location: BlobLocationRow) => Promise<T | undefined>,
): Promise<{ location: BlobLocationRow } & ({ staged: T } | { objectKey: string })> {
  const notFound = () => new NotFoundError(`no blob ${id} of source ${source}`);
  const found = await blobLocation(app.db, source, id);
  if (found === undefined) throw notFound();
  if (found.state !== 'uploaded') {
    const bytes = await staged(found);
    if (bytes !== undefined) return { location: found, staged: bytes };
  }
  const location = found.state === 'uploaded' ? found : await blobLocation(app.db, source, id);
  if (location?.object_key == null) throw notFound();
  return { location, objectKey: location.object_key };
}

/**
 * A blob's staged chunks, then, when the worker uploads it and frees its staging while they are read, the
 * rest of its bytes from the object store: a download under way ends with every byte, not short after its
 * 200. Staging gone without an upload (lost) still ends the download with an error.
 */
async function* stagedThenStored(
  app: FastifyInstance,
  source: string,
  id: string,
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let sent = 0;
  try {
    for await (const chunk of chunks) {
      yield chunk;
      sent += chunk.byteLength;
    }
  } catch (error) {
    if (!(error instanceof StagedBytesMissingError)) throw error;
    const location = await blobLocation(app.db, source, id);
    if (location?.state !== 'uploaded' || location.object_key == null) throw error;
    const rest = await app.objectStore.getStream(location.object_key, { start: sent });
    if (rest === undefined) throw error;
    yield* rest;
  }
}

/**
 * Items: `GET /admin/v1/items` (search, newest first, keyset pages), `GET /admin/v1/items/:source/:id`
 * (one item with its data) and `GET /admin/v1/items/:source/:id/bytes` (a blob's bytes, from the object
 * store once uploaded, else from staging).
 */
export const adminItemRoutes: FastifyPluginAsync = async (app) => {
  app.get(ROUTES.adminItems.path, async (request): Promise<ItemPage> => {
    const query = parseInput(ItemSearchQuerySchema, request.query, 'query');
    const page = await searchItems(app.db, query);
    return {
      items: page.rows.map(summaryOf),
      ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
    };
  });

  app.get<{ Params: { source: string; id: string } }>(
    ROUTES.adminItem.path,
    async (request): Promise<AdminItem> => {
      const { source, id } = parseInput(ItemRefSchema, request.params, 'path');
      const row = await findItem(app.db, source, id);
      if (row === undefined) throw new NotFoundError(`no item ${id} of source ${source}`);
      return {
        ...summaryOf(row),
        hash: row.hash,
        ...(row.kind === 'record' ? { data: row.data } : {}),
        ...(row.blob_state === null
          ? {}
          : {
              blob: {
                state: row.blob_state,
                size: Number(row.size),
                contentType: row.content_type ?? 'application/octet-stream',
                sha256: row.sha256 ?? '',
                attempts: Number(row.attempts ?? 0),
                ...(row.object_key === null ? {} : { objectKey: row.object_key }),
                ...(row.last_error === null ? {} : { lastError: row.last_error }),
                ...(row.meta === null ? {} : { meta: row.meta }),
              },
            }),
      };
    },
  );

  // HEAD checks that the bytes are there without reading them: the HEAD Fastify derives from a GET runs
  // the GET and reads the whole stream it returns (a staged read, an object GET) only to drop it.
  app.head<{ Params: { source: string; id: string } }>(ROUTES.adminItemBytes.path, async (request, reply) => {
    const { source, id } = parseInput(ItemRefSchema, request.params, 'path');
    const bytes = await locateBytes(app, source, id, async () =>
      (await hasStagedBytes(app.db, source, id)) ? true : undefined,
    );
    if (
      'objectKey' in bytes &&
      (await fromObjectStore(id, () => app.objectStore.head(bytes.objectKey))) === undefined
    ) {
      throw new NotFoundError(`no blob ${id} of source ${source}`);
    }
    return setBlobHeaders(reply, bytes.location).send();
  });

  app.get<{ Params: { source: string; id: string } }>(
    ROUTES.adminItemBytes.path,
    { exposeHeadRoute: false },
    async (request, reply) => {
      const { source, id } = parseInput(ItemRefSchema, request.params, 'path');
      const bytes = await locateBytes(app, source, id, (location) =>
        stagedBody(app.db, { source, id, size: location.size, sha256: location.sha256 }).catch(
          (error: unknown) => {
            if (error instanceof StagedBytesMissingError) return undefined;
            // Damage to what the server stores is its own fault, not the request's.
            if (error instanceof StagedBytesCorruptError)
              throw new ServerFault(error.message, { cause: error });
            throw error;
          },
        ),
      );
      if ('staged' in bytes) {
        const { staged } = bytes;
        return setBlobHeaders(reply, bytes.location).send(
          staged instanceof Uint8Array
            ? Buffer.from(staged.buffer, staged.byteOffset, staged.byteLength)
            : Readable.from(stagedThenStored(app, source, id, staged.chunks)),
        );
      }
      const stream = await fromObjectStore(id, () => app.objectStore.getStream(bytes.objectKey));
      if (stream === undefined) throw new NotFoundError(`no blob ${id} of source ${source}`);
      return setBlobHeaders(reply, bytes.location).send(stream);
    },
  );
};
