import fp from 'fastify-plugin';
import { RateLimitedError } from '../errors.js';

/** Options of {@link rateLimitPlugin}. */
export interface RateLimitPluginOptions {
  /** Sustained requests per second per source. */
  readonly rps: number;
  /** Requests a source may send at once above the sustained rate. */
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * A token bucket per source (in this process), checked right after authentication; an empty
 * bucket answers 429 `RATE_LIMITED` with `Retry-After` for when the next token arrives.
 */
export const rateLimitPlugin = fp<RateLimitPluginOptions>(
  async (app, { rps, burst }) => {
    const buckets = new Map<string, Bucket>();
    app.addHook('onRequest', async (request) => {
      const now = Date.now();
      let bucket = buckets.get(request.source);
      if (bucket === undefined) {
        bucket = { tokens: burst, updatedAt: now };
        buckets.set(request.source, bucket);
      }
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rps);
      bucket.updatedAt = now;
      if (bucket.tokens < 1) {
        const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / rps));
        throw new RateLimitedError(`source ${request.source} exceeds ${rps} requests/s`, retryAfterSeconds);
      }
      bucket.tokens -= 1;
    });
  },
  { name: 'sluice-rate-limit', dependencies: ['sluice-auth'] },
);
