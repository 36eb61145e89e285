import { errorBody, httpStatusOf, REQUEST_ERRORS, type RequestErrorCode } from '@sluice/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { asUnavailable, loggableError, sqlStateOf } from './db/connection-errors.js';
import { DatabaseOverloadedError, DatabaseUnavailableError, isRequestError } from './errors.js';

// Fastify's own client errors carry only a status; answer them with the contract's code for it.
const CODE_OF_STATUS: ReadonlyMap<number, RequestErrorCode> = new Map(
  (Object.entries(REQUEST_ERRORS) as [RequestErrorCode, { status: number }][]).map(([code, { status }]) => [
    status,
    code,
  ]),
);

/** Answers with the contract's error body and the HTTP status of `code`. */
export function sendError(reply: FastifyReply, code: RequestErrorCode, message: string): FastifyReply {
  return reply.status(httpStatusOf(code)).send(errorBody(code, message));
}

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
      return sendError(reply, failure.code, message);
    }
    // Fastify's own client errors (bad JSON, body limit, media type) carry a 4xx statusCode.
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status < 500) return sendError(reply, CODE_OF_STATUS.get(status) ?? 'INVALID_BATCH', error.message);
    request.log.error(loggableError(error), 'request failed');
    if (sqlStateOf(error) !== undefined) app.metrics.dbErrors.inc({ reason: 'error' });
    return sendError(reply, 'INTERNAL', 'internal server error');
  });

  app.setNotFoundHandler(async (request, reply) =>
    sendError(reply, 'NOT_FOUND', `no route ${request.method} ${request.url}`),
  );
}
