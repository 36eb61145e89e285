import type { ErrorBody } from '@sluice/contracts';
import postgres from 'postgres';
import { realPostgresAvailable } from '../src/testing.js';
import { describe, expect, it } from './support/fixtures.js';
import { get, postBatch, record } from './support/http.js';

const ACQUIRE_TIMEOUT_MS = 500;

const realPg = await realPostgresAvailable();
if (!realPg)
  console.warn('!!! SKIPPED readiness-overload: holding a table lock from outside needs a real PostgreSQL');

it.override({
  serverOverrides: {
    db: { poolSize: 1, maxWaiting: 5, acquireTimeoutMs: ACQUIRE_TIMEOUT_MS },
  },
});

describe.skipIf(!realPg)('/readyz on a saturated connection pool (real PostgreSQL)', () => {
  it('answers 503 UNAVAILABLE with Retry-After within the acquire timeout instead of hanging, and 200 again after', async ({
    server,
  }) => {
    // Warm the key cache so that the held lock only blocks the item write.
    expect((await postBatch(server, { items: [record('warm')] })).status).toBe(200);
    const locker = postgres(server.db.url ?? '', { max: 1, onnotice: () => {} });
    const reserved = await locker.reserve();
    try {
      await reserved`begin`;
      await reserved`lock table items in exclusive mode`;
      // Holds the pool's only connection until the lock goes.
      const stuck = postBatch(server, { items: [record('stuck')] });
      await new Promise((resolve) => setTimeout(resolve, 200));

      const started = Date.now();
      const ready = await Promise.race([
        get<ErrorBody>(server, '/readyz', null),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ACQUIRE_TIMEOUT_MS + 2_500)),
      ]);
      expect(ready, '/readyz still waiting for a connection').toBeDefined();
      expect(Date.now() - started).toBeLessThan(ACQUIRE_TIMEOUT_MS + 1_500);
      expect(ready?.status).toBe(503);
      expect(ready?.body.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      expect(Number(ready?.headers.get('retry-after'))).toBeGreaterThan(0);

      await reserved`rollback`;
      expect((await stuck).status).toBe(200);
      expect((await get(server, '/readyz', null)).status).toBe(200);
    } finally {
      await reserved`rollback`.catch(() => {});
      reserved.release();
      await locker.end({ timeout: 5 });
    }
  });
});
