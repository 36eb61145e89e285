import { type ErrorBody, type IngestResponse, parseRetryAfter } from '@sluice/contracts';
import { describe, expect, it } from './support/fixtures.js';
import { postBatch, record, storedItems } from './support/http.js';

it.override({ serverOverrides: { rateLimit: { rps: 1, burst: 3 } } });

describe('per-source rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After past the burst, writes nothing, and leaves other sources alone', async ({
    server,
  }) => {
    const answers = [];
    for (let i = 0; i < 5; i += 1)
      answers.push(await postBatch<unknown>(server, { items: [record(`rl-${i}`)] }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
    const limited = answers[3];
    const body = limited?.body as ErrorBody;
    expect(body.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(parseRetryAfter(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1000);
    expect((await storedItems(server)).map((row) => row.id)).toEqual(['rl-0', 'rl-1', 'rl-2']);

    const other = await postBatch<IngestResponse>(server, { items: [record('rl-x')] }, { key: 'other-key' });
    expect(other.status).toBe(200);
  });
});
