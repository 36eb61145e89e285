import { DatabaseUnavailableError } from '../errors.js';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // postgres.js
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

// 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now; class 53, insufficient resources
// (53100 disk full, 53200 out of memory, 53300 too many connections, 53400 a configured limit); 58030 an
// I/O error. None is the request's fault: a 500 would make clients dead-letter or retry blindly, while
// 503 with Retry-After says to come back, with the database's own reason.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '58030']);

function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || /^(08|53)[0-9A-Z]{3}$/.test(code))
      return true;
  }
  return /PGlite is closed|database is closed/i.test(error.message);
}

/** The SQLSTATE of a driver error, looking through drizzle's wrapping `cause`s. */
export function sqlStateOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * The {@link DatabaseUnavailableError} an outage error stands for (connection refused, reset or
 * terminated, server shutting down, embedded database closed, out of disk, memory or connections), or
 * `undefined` for any other error.
 * Looks through drizzle's wrapping `cause`s.
 */
export function asUnavailable(error: unknown): DatabaseUnavailableError | undefined {
  if (error instanceof DatabaseUnavailableError) return error;
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (isConnectionFailure(current)) {
      // The driver error, not drizzle's wrapper, whose message repeats the whole query and its parameters.
      return new DatabaseUnavailableError(`database unavailable: ${current.message}`, { cause: current });
    }
    current = current.cause;
  }
  return undefined;
}

/**
 * What to log for a failed query: drizzle's wrapper repeats the whole statement and every
 * parameter (a batch's data) in its message, so only the driver error and the statement's start
 * are kept.
 */
export function loggableError(error: unknown): { err: unknown; query?: string } {
  const query = error instanceof Error ? (error as Error & { query?: unknown }).query : undefined;
  if (error instanceof Error && typeof query === 'string' && error.cause !== undefined) {
    return { err: error.cause, query: query.trim().slice(0, 200) };
  }
  return { err: error };
}
