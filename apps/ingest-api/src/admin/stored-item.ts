/** An item a route has just stored (not a duplicate), as the live stream and the rates see it. */
export interface StoredItem {
  readonly id: string;
  readonly kind: 'record' | 'blob';
  readonly type: string;
  /** Bytes of the record's canonical data, or of the blob. */
  readonly size: number;
}
