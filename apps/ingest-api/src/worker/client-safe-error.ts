import { DatabaseUnavailableError } from '../errors.js';
import { isObjectStoreError } from '../object-store/object-store-error.js';
import { StagedBytesCorruptError, StagedBytesMissingError } from './blob-worker-errors.js';

const UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|socket hang up/i;
const TIMED_OUT = /timed? ?out|ETIMEDOUT|TimeoutError|aborted/i;

function causeChain(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth += 1) {
    if (current instanceof Error) {
      parts.push(current.name, current.message, String((current as { code?: unknown }).code ?? ''));
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(' ');
}

function httpStatusOf(error: unknown): number | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const status = (current as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
    if (typeof status === 'number') return status;
    current = current.cause;
  }
  return undefined;
}

/**
 * The `last_error` stored for a failed attempt and shown to clients by `GET /v1/items/:id`: one of a
 * few fixed sentences (plus an HTTP status), never the error's own text, which can name hosts,
 * addresses, object keys or worker ids. The full error goes to the server log.
 */
export function clientSafeError(error: unknown): string {
  if (error instanceof StagedBytesMissingError) return 'the staged bytes of this blob are missing';
  if (error instanceof DatabaseUnavailableError)
    return 'the database could not be reached while reading the staged bytes';
  if (error instanceof StagedBytesCorruptError)
    return 'the staged bytes of this blob no longer match its SHA-256';
  if (isObjectStoreError(error)) {
    const text = causeChain(error.cause);
    const status = httpStatusOf(error.cause);
    if (status !== undefined) return `the object store answered HTTP ${status} to ${error.operation}`;
    if (TIMED_OUT.test(text)) return `the object store timed out on ${error.operation}`;
    if (UNREACHABLE.test(text)) return 'the object store could not be reached';
    return `the object store failed on ${error.operation}`;
  }
  return 'the upload failed with an internal error';
}

/** The `last_error` of a blob whose worker stopped responding mid-upload. */
export const LEASE_EXPIRED_ERROR =
  'the upload did not finish before its lease expired (the worker stopped responding)';
