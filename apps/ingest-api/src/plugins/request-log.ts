import { API_PATHS } from '@sluice/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Why a request was refused, for its log line. */
export interface Refusal {
  /** The contract's error code it was answered with. */
  readonly code: string;
  /** What went wrong; may say more than the answer did (a 5xx answer hides internals, the log does not). */
  readonly reason: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request is answered with an error; its log line carries it. */
    refusal: Refusal | null;
    /** What the route did (an ingest's item counts), merged into the request's log line. */
    outcome: Record<string, unknown> | null;
  }
}

// Polled every few seconds by load balancers and Prometheus: a line each would drown everything else.
const PROBES: ReadonlySet<string> = new Set([API_PATHS.health, API_PATHS.ready, API_PATHS.metrics]);
const MAX_LOGGED_URL = 256;

/** Records why `request` was refused, for its one log line. */
export function noteRefusal(request: FastifyRequest, refusal: Refusal): void {
  request.refusal = refusal;
}

/** Records what `request` did (e.g. `{ items, stored, duplicate, … }`), for its one log line. */
export function noteOutcome(request: FastifyRequest, outcome: Record<string, unknown>): void {
  request.outcome = outcome;
}

function levelOf(request: FastifyRequest, reply: FastifyReply): 'debug' | 'info' | 'warn' | 'error' {
  const status = reply.statusCode;
  // A 503 (database down or saturated, spool full) is expected and passes; a 500 is a fault to look at.
  if (status >= 500) return status === 503 ? 'warn' : 'error';
  if (PROBES.has(request.routeOptions.url ?? '')) return 'debug';
  return 'info';
}

/**
 * One log line per request, written when its answer is sent (use with Fastify's
 * `disableRequestLogging`): method, path, status, duration, the caller's source and address; for a
 * refusal its error code and reason; for an ingest the item counts the route noted. Health, readiness
 * and metrics probes are logged at debug while they succeed, so a probed server at `info` stays quiet.
 * Levels: 4xx `info` (the client's doing), 503 `warn`, other 5xx `error`.
 */
export const requestLogPlugin = fp(
  async (app) => {
    app.decorateRequest('refusal', null);
    app.decorateRequest('outcome', null);
    app.addHook('onResponse', async (request, reply) => {
      const level = levelOf(request, reply);
      const url =
        request.url.length > MAX_LOGGED_URL ? `${request.url.slice(0, MAX_LOGGED_URL)}…` : request.url;
      const status = reply.statusCode;
      const source = request.source || undefined;
      const { refusal } = request;
      request.log[level](
        {
          method: request.method,
          url,
          status,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          ip: request.ip,
          source,
          ...refusal,
          ...request.outcome,
        },
        refusal === null
          ? `${request.method} ${url} ${status}`
          : `${request.method} ${url} ${status} ${refusal.code}: ${refusal.reason}`,
      );
    });
  },
  { name: 'sluice-request-log' },
);
