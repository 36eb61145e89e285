import { PayloadTooLargeError } from '../errors.js';

/** Counts every byte of the request body as it arrives; multipart bodies have no `bodyLimit`. */
export class RequestMeter {
  /** Bytes of the body seen so far. */
  bytes = 0;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** A `data` listener for the raw request. */
  readonly onData = (chunk: Buffer): void => {
    this.bytes += chunk.length;
  };

  /** @throws {PayloadTooLargeError} once the body has passed the limit. */
  check(): void {
    if (this.bytes > this.#limit) {
      throw new PayloadTooLargeError(`a blob request may carry at most ${this.#limit} bytes`);
    }
  }
}
