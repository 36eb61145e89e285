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
