import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { UnsupportedMediaTypeError } from '../errors.js';

/**
 * A body whose bytes are not UTF-8. Its status is 400, as on Fastify's own body errors, so the error
 * handler answers it with the route's code for bad input.
 */
class NotUtf8Error extends Error {
  override name = 'NotUtf8Error' as const;
  readonly statusCode = 400;
}

// A `charset` parameter and its value, a token or a quoted string (which may hold `;`).
const CHARSET_PARAMETER = /;\s*charset\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/giu;

/** The labels of UTF-8 a client may declare (`utf8` is the WHATWG alias). */
const UTF8_LABELS: ReadonlySet<string> = new Set(['utf-8', 'utf8']);

/**
 * Refuses a `Content-Type` that declares a charset other than UTF-8 (case-insensitive, quoted or not):
 * JSON travels as UTF-8, and bytes of another charset would be read as something the client did not send.
 * No `charset` means UTF-8.
 * @throws {UnsupportedMediaTypeError} naming the declared charset.
 */
function refuseOtherCharsets(contentType: string | undefined): void {
  for (const [, raw = ''] of (contentType ?? '').matchAll(CHARSET_PARAMETER)) {
    const charset = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/gu, '$1') : raw;
    if (!UTF8_LABELS.has(charset.toLowerCase())) {
      throw new UnsupportedMediaTypeError(`JSON bodies are UTF-8; charset ${charset} is not supported`);
    }
  }
}

/**
 * Replaces Fastify's `application/json` parser with one that reads the body as bytes and refuses, before
 * parsing, a charset other than UTF-8 (415) and bytes that are not UTF-8 (400: a raw Latin-1 byte, an
 * overlong form, an encoded surrogate). Decoding them would store U+FFFD in place of what the client
 * sent, and its correct retry would then conflict. Otherwise it parses as Fastify's own parser does.
 * Runs after `preParsing`, so a gzip body is checked decoded. Must run before routes are registered.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    try {
      refuseOtherCharsets(request.headers['content-type']);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    if (!isUtf8(body)) {
      done(new NotUtf8Error('the body is not valid UTF-8'), undefined);
      return;
    }
    parseJson(request, body.toString('utf8'), done);
  });
}
