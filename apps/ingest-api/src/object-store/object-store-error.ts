/** An object store operation failed: the store is unreachable, timed out, or refused the request. */
export class ObjectStoreError extends Error {
  override name = 'ObjectStoreError' as const;
  /** The operation that failed. */
  readonly operation: 'put' | 'head' | 'get';
  /** The object key it was about. */
  readonly key: string;

  constructor(operation: 'put' | 'head' | 'get', key: string, options: { cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`object store ${operation} ${key} failed: ${reason}`, options);
    this.operation = operation;
    this.key = key;
  }
}

/** An object key that could escape the store's namespace (absolute, `..`, unusual characters). */
export class InvalidObjectKeyError extends TypeError {
  override name = 'InvalidObjectKeyError' as const;
}

/** True for {@link ObjectStoreError}, also across module copies. */
export function isObjectStoreError(error: unknown): error is ObjectStoreError {
  return error instanceof Error && error.name === 'ObjectStoreError';
}
