import type { Readable } from 'node:stream';
import type { Multipart } from '@fastify/multipart';
import { InvalidBatchError, isRequestError, PayloadTooLargeError } from '../errors.js';

/** What a failure while reading the multipart body stands for: the body's fault, never the server's. */
export function malformedBody(error: unknown): Error {
  if (isRequestError(error)) return error;
  if ((error as { statusCode?: unknown }).statusCode === 413) {
    return new PayloadTooLargeError('the multipart body exceeds a limit', { cause: error });
  }
  return new InvalidBatchError('the multipart body is malformed or was cut short', { cause: error });
}

/** The chunks of one part; a body that is malformed or breaks off inside the part fails as {@link malformedBody}. */
export async function* chunksOf(file: Readable): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of file as AsyncIterable<Buffer>) yield chunk;
  } catch (error) {
    throw malformedBody(error);
  }
}

/** Reads multipart parts one at a time, turning malformed-body failures into {@link InvalidBatchError}. */
export async function nextPart(parts: AsyncIterator<Multipart>): Promise<Multipart | undefined> {
  try {
    const next = await parts.next();
    return next.done ? undefined : next.value;
  } catch (error) {
    throw malformedBody(error);
  }
}
