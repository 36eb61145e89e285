import { ID_PATTERN, SOURCE_NAME_PATTERN } from '@sluice/contracts';
import { InvalidRequestError } from '../errors.js';

/**
 * An opaque page cursor: the sort key of the last row of a page, as base64url JSON. It is not signed:
 * a forged one names some other position, which the admin may ask for anyway; its shape is checked.
 */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * The sort key of a cursor made by {@link encodeCursor}, each part checked by its pattern.
 * @throws {InvalidRequestError} for anything else.
 */
export function decodeCursor(cursor: string, patterns: readonly RegExp[]): string[] {
  let key: unknown;
  try {
    if (!/^[A-Za-z0-9_-]*$/.test(cursor)) throw new Error('not base64url');
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw new InvalidRequestError('malformed cursor: pass the nextCursor of the previous page', {
      cause: error,
    });
  }
  if (
    !Array.isArray(key) ||
    key.length !== patterns.length ||
    !key.every((part, index) => typeof part === 'string' && patterns[index]?.test(part) === true)
  ) {
    throw new InvalidRequestError('malformed cursor: pass the nextCursor of the previous page');
  }
  return key as string[];
}

/** How cursors carry a `timestamptz` exactly: ISO 8601 UTC with microseconds, as `to_char` writes it. */
const ISO_MICROS_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** SQL of a `timestamptz` expression as {@link decodeTimeKeyCursor} expects it. */
export function isoMicrosSql(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/**
 * The (time, source, id) sort key of a cursor: time as made by {@link isoMicrosSql}, a source name
 * and an item id, all checked, the time also for being a real date (PostgreSQL refuses February 30th).
 * @throws {InvalidRequestError} for anything else.
 */
export function decodeTimeKeyCursor(cursor: string): [at: string, source: string, id: string] {
  const [at = '', source = '', id = ''] = decodeCursor(cursor, [
    ISO_MICROS_PATTERN,
    SOURCE_NAME_PATTERN,
    ID_PATTERN,
  ]);
  const millis = new Date(`${at.slice(0, 23)}Z`);
  if (Number.isNaN(millis.getTime()) || millis.toISOString() !== `${at.slice(0, 23)}Z`) {
    throw new InvalidRequestError('malformed cursor: pass the nextCursor of the previous page');
  }
  return [at, source, id];
}
