import { errorBody, httpStatusOf, type RequestErrorCode } from '@sluice/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { asUnavailable, loggableError, sqlStateOf } from './db/connection-errors.js';
import { DatabaseOverloadedError, DatabaseUnavailableError, isRequestError } from './errors.js';

const STATUS_CODES: Readonly<Record<number, RequestErrorCode>> = {
  400: 'INVALID_BATCH',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

/**
 * Installs the one error handler (every failure becomes the contract's error body; 5xx bodies
 * never carry internals) and the not-found handler.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const failure = isRequestError(error) ? error : (asUnavailable(error) ?? error);
    if (failure instanceof DatabaseUnavailableError || failure instanceof DatabaseOverloadedError) {
      app.metrics.dbErrors.inc({
        reason: failure instanceof DatabaseOverloadedError ? 'overloaded' : 'unavailable',
      });
      request.log.warn({ err: failure }, 'database unavailable');
    }
    if (isRequestError(failure)) {
      const status = httpStatusOf(failure.code);
      if (failure.retryAfterSeconds !== undefined)
        reply.header('retry-after', String(failure.retryAfterSeconds));
      // A 5xx message would carry driver details (addresses, SQL); those stay in the log.
      const message =
        status >= 500 ? 'temporarily unavailable; retry after Retry-After seconds' : failure.message;
      return reply.status(status).send(errorBody(failure.code, message));
    }
    // Fastify's own client errors (bad JSON, body limit, media type) carry a 4xx statusCode.
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    const code = STATUS_CODES[status];
    if (status < 500) {
      if (code !== undefined) return reply.status(status).send(errorBody(code, error.message));
      return reply.status(400).send(errorBody('INVALID_BATCH', error.message));
    }
    request.log.error(loggableError(error), 'request failed');
    if (sqlStateOf(error) !== undefined) app.metrics.dbErrors.inc({ reason: 'error' });
    return reply.status(500).send(errorBody('INTERNAL', 'internal server error'));
  });

  app.setNotFoundHandler(async (request, reply) =>
    reply.status(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url}`)),
  );
}
