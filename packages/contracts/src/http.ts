/** Paths of the wire protocol v1. */
export const API_PATHS = {
  batch: '/v1/batch',
  blobs: '/v1/blobs',
  item: '/v1/items/:id',
  limits: '/v1/limits',
  health: '/healthz',
  ready: '/readyz',
  metrics: '/metrics',
  docs: '/docs',
} as const;

/** The path of one item's status. */
export function itemPath(id: string): string {
  return `/v1/items/${encodeURIComponent(id)}`;
}

/** The longest API key: with `Bearer `, well within any server's header limits (the API's is 16 KiB). */
export const MAX_API_KEY_LENGTH = 1024;

/**
 * Whether `key` can be an API key: 1 to {@link MAX_API_KEY_LENGTH} printable ASCII characters without
 * spaces, what an HTTP client can send as `Authorization: Bearer <key>` and compare byte for byte (the
 * server's keys are base64url). A space, a control character or a character past U+007E would be
 * refused by fetch, or altered on the way.
 */
export function isSendableKey(key: string): boolean {
  return key.length <= MAX_API_KEY_LENGTH && /^[\x21-\x7e]+$/.test(key);
}
