/** What an adapter knows of a failure beyond its cause. */
export interface ObjectStoreErrorOptions {
  readonly cause: unknown;
  /**
   * The store refused the credentials (HTTP 403 on S3); the permission they need, e.g. `s3:PutObject`,
   * named in the message so an operator knows what to grant.
   */
  readonly deniedPermission?: string | undefined;
}

/** An object store operation failed: the store is unreachable, timed out, or refused the request. */
export class ObjectStoreError extends Error {
  override name = 'ObjectStoreError' as const;
  /** The operation that failed. */
  readonly operation: 'put' | 'head' | 'get';
  /** The object key it was about. */
  readonly key: string;
  /**
   * The permission the store said the credentials lack, when it refused them (HTTP 403), else
   * `undefined`. On `head` and `get` it is ambiguous: without `s3:ListBucket`, S3 answers 403 instead
   * of 404 for a missing key.
   */
  readonly deniedPermission: string | undefined;

  constructor(operation: 'put' | 'head' | 'get', key: string, options: ObjectStoreErrorOptions) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    const denied =
      options.deniedPermission === undefined
        ? ''
        : ` (access denied: the credentials need ${options.deniedPermission})`;
    super(`object store ${operation} ${key} failed: ${reason}${denied}`, { cause: options.cause });
    this.operation = operation;
    this.key = key;
    this.deniedPermission = options.deniedPermission;
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
