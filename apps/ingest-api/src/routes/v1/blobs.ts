import multipart from '@fastify/multipart';
import {
  countStatuses,
  type IngestResponse,
  type ItemResult,
  type Limits,
  MANIFEST_FIELD,
  maxManifestBytes,
  ROUTES,
} from '@sluice/contracts';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { beginStoring } from '../../error-handler.js';
import { InvalidBatchError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../errors.js';
import { entryResults, readManifest } from '../../ingest/blob-manifest.js';
import { nextPart } from '../../ingest/multipart-parts.js';
import { receiveBlobParts } from '../../ingest/receive-blob-parts.js';
import { RequestMeter } from '../../ingest/request-meter.js';
import { stageBlobs } from '../../ingest/stage-blobs.js';
import { noteOutcome } from '../../plugins/request-log.js';

/** Options of {@link blobRoutes}. */
export interface BlobRoutesOptions {
  /** Effective limits; the blob ones apply here. */
  readonly limits: Limits;
}

/**
 * `POST /v1/blobs` (`multipart/form-data`): the `manifest` field first, then one file part per manifest
 * item, named by its id, in any order. Each part is streamed through SHA-256 and a size count; a part
 * that differs from its manifest entry is `rejected` `CHECKSUM_MISMATCH`, a missing one `MISSING_PART`.
 * Verified parts are spooled to `DATA_DIR/spool`, then staged in the database in one transaction with
 * their item rows, so `stored` means durable and reachable by every worker. A part no manifest item names, a bad or misplaced
 * manifest (400) and a body over the request limit (413) fail the whole request, writing nothing.
 */
export const blobRoutes: FastifyPluginAsync<BlobRoutesOptions> = async (app, { limits }) => {
  await app.register(multipart, {
    throwFileSizeLimit: false,
    // The manifest is read as bytes, like a file, whatever its part declares: as a field it would be
    // decoded with U+FFFD in place of bytes that are not UTF-8, and those are refused instead.
    isPartAFile: (fieldName, contentType, fileName) =>
      fieldName === MANIFEST_FIELD || contentType === 'application/octet-stream' || fileName !== undefined,
    limits: {
      fieldSize: maxManifestBytes(limits),
      fields: 2,
      files: limits.maxBlobsPerRequest + 1,
      parts: limits.maxBlobsPerRequest + 3,
      fileSize: limits.maxBlobBytes,
      headerPairs: 32,
    },
  });

  app.route({
    method: ROUTES.blobs.method,
    url: ROUTES.blobs.path,
    handler: async (request, reply): Promise<IngestResponse> => {
      if (!request.isMultipart()) {
        throw new UnsupportedMediaTypeError('POST /v1/blobs takes multipart/form-data');
      }
      const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (encoding !== 'identity' && encoding !== '') {
        // Blobs are verified byte for byte against their SHA-256; they travel as they are.
        throw new UnsupportedMediaTypeError(`POST /v1/blobs takes no Content-Encoding, got ${encoding}`);
      }
      const declared = Number(request.headers['content-length'] ?? Number.NaN);
      if (declared > limits.maxBlobRequestBytes) {
        reply.header('connection', 'close');
        throw new PayloadTooLargeError(
          `a blob request may carry at most ${limits.maxBlobRequestBytes} bytes`,
        );
      }
      const stopTimer = app.metrics.batchDuration.startTimer({ route: 'blobs' });
      const meter = new RequestMeter(limits.maxBlobRequestBytes);
      try {
        const results = await receive(request, meter);
        const counts = countStatuses(results);
        for (const [status, count] of Object.entries(counts)) {
          if (count > 0) app.metrics.items.inc({ kind: 'blob', status }, count);
        }
        noteOutcome(request, { items: results.length, bytes: meter.bytes, ...counts });
        return { results, counts };
      } catch (error) {
        // The rest of the body is not worth reading.
        reply.header('connection', 'close');
        throw error;
      } finally {
        request.raw.off('data', meter.onData);
        stopTimer();
      }
    },
  });

  async function receive(request: FastifyRequest, meter: RequestMeter): Promise<ItemResult[]> {
    const parts = request.parts()[Symbol.asyncIterator]();
    const first = nextPart(parts);
    // The first next() has just piped the request into the parser; counting from here sees every chunk.
    request.raw.on('data', meter.onData);
    const manifestPart = await first;
    if (manifestPart === undefined || manifestPart.fieldname !== MANIFEST_FIELD) {
      throw new InvalidBatchError(`the first part must be the "${MANIFEST_FIELD}" field`);
    }
    const entries = await readManifest(manifestPart, limits);

    // Parts are spooled to disk while they arrive, so a slow client holds no database connection and
    // memory stays at a chunk per request; the transaction at the end is short. The spool reserves
    // what the manifest declares (a part is written only up to its declared size) before any part
    // is read, so a request it cannot hold is refused having written nothing.
    const declared = entries.reduce((sum, entry) => sum + (entry.item?.size ?? 0), 0);
    const spool = await app.blobSpool.begin(Math.min(declared, limits.maxBlobRequestBytes), request.source);
    try {
      const verified = await receiveBlobParts(parts, entries, meter, spool.directory);
      meter.check();
      beginStoring(request);
      await stageBlobs(app.db, request.source, verified);
      app.storedItems.stored(
        request.source,
        entries.flatMap(({ item, result }) =>
          item !== undefined && result?.status === 'stored'
            ? [{ id: item.id, kind: 'blob' as const, type: item.type, size: item.size }]
            : [],
        ),
      );
    } finally {
      await spool.end().catch((error: unknown) => {
        request.log.warn({ err: error }, 'could not remove spool files; the next start sweeps them');
      });
    }
    return entryResults(entries);
  }
};
