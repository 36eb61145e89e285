import type { DiskQueueOptions, Durability, WhenFull } from './types.js';

/** Defaults of `DiskQueueOptions`. */
export const DISK_QUEUE_DEFAULTS = {
  durability: 'fsync',
  maxBytes: 268_435_456,
  whenFull: 'reject',
  segmentBytes: 8_388_608,
} as const satisfies Partial<DiskQueueOptions>;

/** `DiskQueueOptions` with defaults applied, validated. */
export interface ResolvedOptions {
  readonly directory: string;
  readonly durability: Durability;
  readonly maxBytes: number;
  readonly whenFull: WhenFull;
  readonly segmentBytes: number;
  readonly onDrop: DiskQueueOptions['onDrop'];
}

/** Applies the defaults and validates; throws a `TypeError` naming the first bad option. */
export function resolveOptions(options: DiskQueueOptions): ResolvedOptions {
  const resolved = { ...DISK_QUEUE_DEFAULTS, ...options };
  const { directory, durability, maxBytes, whenFull, segmentBytes, onDrop } = resolved;
  if (typeof directory !== 'string' || directory === '') {
    throw new TypeError(`Expected \`directory\` to be a non-empty path, got ${JSON.stringify(directory)}`);
  }
  if (durability !== 'fsync' && durability !== 'os') {
    throw new TypeError(`Expected \`durability\` to be 'fsync' or 'os', got ${JSON.stringify(durability)}`);
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    throw new TypeError(`Expected \`maxBytes\` to be a positive integer, got ${String(maxBytes)}`);
  }
  if (whenFull !== 'reject' && whenFull !== 'drop-oldest') {
    throw new TypeError(
      `Expected \`whenFull\` to be 'reject' or 'drop-oldest', got ${JSON.stringify(whenFull)}`,
    );
  }
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1) {
    throw new TypeError(`Expected \`segmentBytes\` to be a positive integer, got ${String(segmentBytes)}`);
  }
  if (onDrop !== undefined && typeof onDrop !== 'function') {
    throw new TypeError(`Expected \`onDrop\` to be a function, got ${typeof onDrop}`);
  }
  return { directory, durability, maxBytes, whenFull, segmentBytes, onDrop };
}
