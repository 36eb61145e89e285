import type { Socket } from 'node:net';
import { errorBody, httpStatusOf, REQUEST_ERRORS, type RequestErrorCode } from '@sluice/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { asUnavailable, loggableError, sqlStateOf } from './db/connection-errors.js';
import { DatabaseOverloadedError, DatabaseUnavailableError, isRequestError, ServerFault } from './errors.js';
import { noteRefusal } from './plugins/request-log.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by {@link beginStoring}: the request's input is read and checked and its writes begin. */
    storing: boolean;
  }
}

// Fastify's own client errors carry only a status; answer them with the contract's first code for it
// (400 is INVALID_BATCH, which clients of /v1 act on).
const CODE_OF_STATUS: ReadonlyMap<number, RequestErrorCode> = new Map(
  (Object.entries(REQUEST_ERRORS) as [RequestErrorCode, { status: number }][])
    .reverse()
    .map(([code, { status }]) => [status, code]),
);

// SQLSTATE classes of values PostgreSQL refuses: 22 data exception (22021: U+0000 in text), 54 program
// limit exceeded (54001: nesting too deep). Input that validation let through; a retry cannot help.
const REFUSED_VALUE_CLASSES = new Set(['22', '54']);

/** The 400 code of bad input: `INVALID_REQUEST` on the admin API, `INVALID_BATCH` (which `/v1` clients act on) elsewhere. */
function badInputCode(request: FastifyRequest): 'INVALID_REQUEST' | 'INVALID_BATCH' {
  return request.url.startsWith('/admin/') ? 'INVALID_REQUEST' : 'INVALID_BATCH';
}

/** The message of the error worth logging: the driver's, not drizzle's wrapper that repeats the query. */
function reasonOf(error: unknown): string {
  const { err } = loggableError(error);
  return err instanceof Error ? err.message : String(err);
}

/**
 * Answers with the contract's error body and the HTTP status of `code`, and notes the refusal for the
 * request's log line with `reason` (what the log may say beyond the answer's `message`).
 */
export function sendError(
  reply: FastifyReply,
  code: RequestErrorCode,
  message: string,
  reason: string = message,
): FastifyReply {
  noteRefusal(reply.request, { code, reason });
  return reply.status(httpStatusOf(code)).send(errorBody(code, message));
}

/**
 * Marks `request` as past its input: it has been read and checked, and the route begins to write.
 * Until then an unexpected error is blamed on the input and answered 400, since the same input sent
 * again would fail again (a retryable 500 would have the client resend it forever); from then on it
 * is the server's and answered 500.
 */
export function beginStoring(request: FastifyRequest): void {
  request.storing = true;
}

/**
 * Installs the one error handler (every failure becomes the contract's error body; 5xx bodies
 * never carry internals) and the not-found handler. Only the server's own faults are 5xx: an
 * unavailable or saturated database (503), any other database error or {@link ServerFault}, and an
 * unexpected error after {@link beginStoring} (500). Anything else is the input's: 4xx.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.decorateRequest('storing', false);
  app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    // Refused before its body was read (a bad key, a wrong type): the sender may not keep the
    // connection by trickling a body nobody will read.
    if (!request.raw.complete) reply.header('connection', 'close');
    if (!isRequestError(error) && typeof error.statusCode === 'number' && error.statusCode < 500) {
      // Fastify's and its plugins' client errors (bad JSON, body limit, media type, a reset body).
      const code = CODE_OF_STATUS.get(error.statusCode) ?? 'INVALID_BATCH';
      return sendError(reply, code === 'INVALID_BATCH' ? badInputCode(request) : code, error.message);
    }
    const failure = isRequestError(error) ? error : (asUnavailable(error) ?? error);
    if (failure instanceof DatabaseUnavailableError || failure instanceof DatabaseOverloadedError) {
      app.metrics.dbErrors.inc({
        reason: failure instanceof DatabaseOverloadedError ? 'overloaded' : 'unavailable',
      });
    }
    if (isRequestError(failure)) {
      const status = httpStatusOf(failure.code);
      if (failure.retryAfterSeconds !== undefined)
        reply.header('retry-after', String(failure.retryAfterSeconds));
      // A 5xx message would carry driver details (addresses, SQL); those stay in the log.
      const message =
        status >= 500 ? 'temporarily unavailable; retry after Retry-After seconds' : failure.message;
      return sendError(reply, failure.code, message, failure.message);
    }
    const state = sqlStateOf(error);
    if (state !== undefined && REFUSED_VALUE_CLASSES.has(state.slice(0, 2))) {
      return sendError(
        reply,
        badInputCode(request),
        'the request holds a value the database cannot store',
        `the database refused a value (${state}): ${reasonOf(error)}`,
      );
    }
    if (state === undefined && !(error instanceof ServerFault) && !request.storing) {
      // A bug, not bad input: the stack is worth a line of its own.
      request.log.error({ err: error }, 'unexpected error while reading the request; answered as bad input');
      return sendError(
        reply,
        badInputCode(request),
        'the request could not be read or checked',
        reasonOf(error),
      );
    }
    request.log.error(loggableError(error), 'request failed');
    if (state !== undefined) app.metrics.dbErrors.inc({ reason: 'error' });
    return sendError(reply, 'INTERNAL', 'internal server error', reasonOf(error));
  });

  app.setNotFoundHandler(async (request, reply) =>
    sendError(reply, 'NOT_FOUND', `no route ${request.method} ${request.url}`),
  );
}

/**
 * Fastify's `frameworkErrors`: the router's refusals (a URL that is not percent-encoded UTF-8, a
 * path parameter over `maxParamLength`) in the contract's shape.
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  sendError(reply, badInputCode(request), error.message);
}

/**
 * Fastify's `clientErrorHandler` (`this` is the server): what the HTTP parser refuses (malformed request,
 * headers over the size limit) is answered 400 `INVALID_REQUEST` in the contract's shape: not
 * `INVALID_BATCH`, which clients take for their items' fault and dead-letter. Clients send well-formed
 * requests with small headers, so such an answer means something in between (a proxy adding headers)
 * altered them: clients keep the items, back off and say so. A request not received within
 * `HEADERS_TIMEOUT_MS`/`REQUEST_TIMEOUT_MS` is cut off without an answer: the contract has no code
 * for it, and a dropped connection is what clients already retry. Either is logged at info, as a
 * refused request is: it never becomes one, so the request log would not show it.
 */
export function answerClientError(
  this: Pick<FastifyInstance, 'log'> | undefined,
  error: NodeJS.ErrnoException,
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const ip = socket.remoteAddress;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    this?.log.info({ ip, reason: error.code }, 'connection cut off: the request did not arrive in time');
  } else if (socket.writable) {
    const message =
      error.code === 'HPE_HEADER_OVERFLOW' ? 'the request headers are too large' : 'malformed HTTP request';
    this?.log.info(
      { status: 400, code: 'INVALID_REQUEST', reason: message, parser: error.code, ip },
      `refused by the HTTP parser: 400 INVALID_REQUEST: ${message}`,
    );
    const body = JSON.stringify(errorBody('INVALID_REQUEST', message));
    socket.write(
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
