import { createHash } from 'node:crypto';

/** A seeded pseudo-random stream (sfc32): the same seed and name give the same numbers on every machine. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** A float in [min, max). */
  between(min: number, max: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** `count` random bytes. */
  bytes(count: number): Buffer;
}

/**
 * The stream named `name` of `seed`. Each concern (fault schedule, proxy decisions, one client's
 * payloads) draws from its own stream, so adding draws to one never shifts another.
 */
export function seededRandom(seed: number, name: string): Random {
  const digest = createHash('sha256').update(`${seed}:${name}`).digest();
  let a = digest.readUInt32LE(0);
  let b = digest.readUInt32LE(4);
  let c = digest.readUInt32LE(8);
  let d = digest.readUInt32LE(12);
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) nextUint32();
  const next = (): number => nextUint32() / 4_294_967_296;
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    between: (min, max) => min + next() * (max - min),
    pick: <T>(items: readonly T[]): T => {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new RangeError('pick needs a non-empty array');
      return item;
    },
    bytes: (count) => {
      const buffer = Buffer.allocUnsafe(count);
      let i = 0;
      for (; i + 4 <= count; i += 4) buffer.writeUInt32LE(nextUint32(), i);
      for (; i < count; i++) buffer[i] = nextUint32() & 0xff;
      return buffer;
    },
  };
}
