import {
  BatchEnvelopeSchema,
  checkRecordData,
  countStatuses,
  type IngestResponse,
  type ItemErrorCode,
  type ItemResult,
  isItemProblem,
  type Limits,
  RecordItemSchema,
  ROUTES,
  recordHashOfCanonical,
} from '@sluice/contracts';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { StoredItem } from '../../admin/stored-item.js';
import { beginStoring } from '../../error-handler.js';
import { InvalidBatchError } from '../../errors.js';
import { BodyBudget, bodyHandled, releaseBody } from '../../http/body-budget.js';
import { decodeBody } from '../../http/decode-body.js';
import { insertItems, type NewItem, outcomeResult } from '../../ingest/insert-items.js';
import { noteOutcome } from '../../plugins/request-log.js';

/** Options of {@link batchRoutes}. */
export interface BatchRoutesOptions {
  readonly limits: Limits;
}

type Checked =
  | { readonly ok: true; readonly row: NewItem; readonly size: number }
  | { readonly ok: false; readonly result: ItemResult };

function idOf(item: unknown): string {
  const id = (item as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id.slice(0, 128) : '';
}

function rejected(id: string, code: ItemErrorCode, message: string): Checked {
  return { ok: false, result: { id, status: 'rejected', error: { code, message } } };
}

function checkItem(item: unknown, limits: Limits): Checked {
  const parsed = RecordItemSchema.safeParse(item);
  if (!parsed.success) {
    const message = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'item'}: ${issue.message}`);
    return rejected(idOf(item), 'INVALID_ITEM', message.join('; '));
  }
  const record = parsed.data;
  const data = checkRecordData(record.data, limits.maxItemDataBytes);
  if (isItemProblem(data)) return rejected(record.id, data.code, data.message);
  const hash = recordHashOfCanonical(record.type, record.ts, data.canonical);
  if (record.hash !== undefined && record.hash !== hash) {
    return rejected(
      record.id,
      'HASH_MISMATCH',
      `hash ${record.hash} differs from the canonical hash ${hash}`,
    );
  }
  return {
    ok: true,
    row: { id: record.id, kind: 'record', type: record.type, ts: record.ts, hash, dataText: data.canonical },
    size: data.bytes,
  };
}

async function answerBatch(request: FastifyRequest, limits: Limits): Promise<IngestResponse> {
  const { body } = request;
  const envelope = BatchEnvelopeSchema.safeParse(body);
  if (!envelope.success) {
    throw new InvalidBatchError('body must be a JSON object { "items": [ … ] } and nothing else', {
      cause: envelope.error,
    });
  }
  const { items } = envelope.data;
  if (items.length === 0) throw new InvalidBatchError('a batch needs at least one item');
  if (items.length > limits.maxBatchItems) {
    throw new InvalidBatchError(`a batch holds at most ${limits.maxBatchItems} items, got ${items.length}`);
  }

  const checked = items.map((item) => checkItem(item, limits));
  const rows = checked.flatMap((entry) => (entry.ok ? [entry.row] : []));
  beginStoring(request);
  const outcomes = await insertItems(request.server.db, request.source, rows);

  let next = 0;
  const stored: StoredItem[] = [];
  const results = checked.map((entry): ItemResult => {
    if (!entry.ok) return entry.result;
    const outcome = outcomes[next++];
    if (outcome === 'stored') {
      stored.push({ id: entry.row.id, kind: 'record', type: entry.row.type, size: entry.size });
    }
    return outcomeResult(entry.row.id, outcome);
  });
  request.server.storedItems.stored(request.source, stored);
  return { results, counts: countStatuses(results) };
}

/**
 * Decoded batch bodies this process holds at once, in `MAX_BATCH_BYTES` (64 MiB at the default 4 MiB), and
 * of those one source (at most 32 MiB): the SDK holds at most 8 requests of 1 MiB in flight.
 */
const BODY_BUDGET_BATCHES = 16;
const SOURCE_BODY_BUDGET_BATCHES = 8;

/**
 * `POST /v1/batch`: validates the envelope (a failure is 400 for the whole request), then each
 * item on its own (a bad one is `rejected`), and stores the valid ones in one atomic insert through
 * the idempotency gate. `results[i]` answers `items[i]`.
 */
export const batchRoutes: FastifyPluginAsync<BatchRoutesOptions> = async (app, { limits }) => {
  // Batches are JSON only; without this Fastify would hand text/plain bodies to the handler.
  app.removeContentTypeParser('text/plain');
  const budget = new BodyBudget(
    BODY_BUDGET_BATCHES * limits.maxBatchBytes,
    SOURCE_BODY_BUDGET_BATCHES * limits.maxBatchBytes,
  );
  app.route({
    method: ROUTES.batch.method,
    url: ROUTES.batch.path,
    bodyLimit: limits.maxBatchBytes,
    preParsing: decodeBody(limits.maxBatchBytes, budget),
    // Requests answered or abandoned before the handler ran; the handler gives back its own.
    onResponse: async (request) => releaseBody(request, true),
    onRequestAbort: async (request) => releaseBody(request, false),
    handler: async (request): Promise<IngestResponse> => {
      bodyHandled(request);
      const stopTimer = app.metrics.batchDuration.startTimer({ route: 'batch' });
      try {
        const response = await answerBatch(request, limits);
        for (const [status, count] of Object.entries(response.counts)) {
          if (count > 0) app.metrics.items.inc({ kind: 'record', status }, count);
        }
        noteOutcome(request, { items: response.results.length, ...response.counts });
        return response;
      } finally {
        stopTimer();
        releaseBody(request, true);
      }
    },
  });
};
