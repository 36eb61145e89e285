import {
  DEFAULT_LIMITS,
  type ErrorBody,
  type ItemStatusResponse,
  ItemStatusResponseSchema,
  type Limits,
  recordHash,
} from '@sluice/contracts';
import { describe, expect, it } from './support/fixtures.js';
import { get, postBatch, record } from './support/http.js';
import { unresolvedRefs } from './support/json-refs.js';

describe('item status, limits, health, metrics and docs', () => {
  it("answers GET /v1/items/:id for the caller's own items and 404 for another source's", async ({
    server,
  }) => {
    const item = record('st-1', { a: 1 }, 'view', 1_700_000_000_000);
    const before = Date.now();
    await postBatch(server, { items: [item] });

    const mine = await get<ItemStatusResponse>(server, '/v1/items/st-1');
    expect(mine.status).toBe(200);
    expect(ItemStatusResponseSchema.parse(mine.body)).toEqual({
      id: 'st-1',
      type: 'view',
      ts: 1_700_000_000_000,
      receivedAt: mine.body.receivedAt,
      kind: 'record',
      hash: recordHash(item),
    });
    expect(mine.body.receivedAt).toBeGreaterThanOrEqual(before - 5_000);
    expect(mine.body.receivedAt).toBeLessThanOrEqual(Date.now() + 5_000);

    const theirs = await get<ErrorBody>(server, '/v1/items/st-1', 'other-key');
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.code).toBe('NOT_FOUND');
    const unknown = await get<ErrorBody>(server, '/v1/items/never-sent');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    expect((await get(server, '/v1/items/st-1', null)).status).toBe(401);
  });

  it('publishes the effective limits at GET /v1/limits', async ({ server }) => {
    const limits = await get<Limits>(server, '/v1/limits');
    expect(limits.status).toBe(200);
    expect(limits.body).toEqual(DEFAULT_LIMITS);
  });

  it('answers /healthz and /readyz without a key; /readyz is 503 while a migration is missing', async ({
    server,
  }) => {
    expect((await get(server, '/healthz', null)).status).toBe(200);
    const ready = await get<{ status: string }>(server, '/readyz', null);
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');

    const [last] = await server.query<{ id: number; hash: string; created_at: string }>(
      'delete from drizzle.__drizzle_migrations where id = (select max(id) from drizzle.__drizzle_migrations) returning id, hash, created_at::text',
    );
    const notReady = await get<ErrorBody>(server, '/readyz', null);
    expect(notReady.status).toBe(503);
    expect(notReady.body.error.code).toBe('UNAVAILABLE');
    await server.query(
      'insert into drizzle.__drizzle_migrations (id, hash, created_at) values ($1, $2, $3::bigint)',
      [last?.id, last?.hash, last?.created_at],
    );
    expect((await get(server, '/readyz', null)).status).toBe(200);
  });

  it('counts items by status and batch latency in /metrics', async ({ server }) => {
    await postBatch(server, { items: [record('mx-1'), record('mx-1'), record('bad id')] });
    const metrics = await get<string>(server, '/metrics', null);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    expect(metrics.body).toMatch(/sluice_items_total\{kind="record",status="stored"\} [1-9]/);
    expect(metrics.body).toMatch(/sluice_items_total\{kind="record",status="duplicate"\} [1-9]/);
    expect(metrics.body).toMatch(/sluice_items_total\{kind="record",status="rejected"\} [1-9]/);
    expect(metrics.body).toMatch(/sluice_ingest_request_duration_seconds_count\{route="batch"\} [1-9]/);
    expect(metrics.body).toContain('sluice_db_errors_total');
  });

  it('serves an OpenAPI document generated from the contracts at /docs/json', async ({ server }) => {
    for (const path of ['/docs/json']) {
      const docs = await get<{
        openapi: string;
        paths: Record<string, unknown>;
        components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
      }>(server, path, null);
      expect(docs.status).toBe(200);
      expect(docs.body.openapi).toMatch(/^3\./);
      expect(Object.keys(docs.body.paths)).toEqual(
        expect.arrayContaining(['/v1/batch', '/v1/blobs', '/v1/items/{id}', '/v1/limits']),
      );
      expect(Object.keys(docs.body.components.schemas.BatchRequest?.properties ?? {})).toEqual(['items']);
      expect(Object.keys(docs.body.components.schemas.Limits?.properties ?? {})).toEqual(
        Object.keys(DEFAULT_LIMITS),
      );
      expect(unresolvedRefs(docs.body)).toEqual([]);
    }
  });
});
