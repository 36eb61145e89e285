import { describe, expect, it } from 'vitest';
import { AckSet } from '../src/disk-queue/ack-set.js';

describe('ack set of the disk queue ledger', () => {
  it('agrees with a plain set under random acks, ranges and watermark raises, and stays compact', () => {
    let state = 7;
    const next = (below: number): number => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state % below;
    };
    const acks = new AckSet();
    const plain = new Set<number>([0]);
    let watermark = 0;
    for (let step = 0; step < 5000; step += 1) {
      const choice = next(20);
      if (choice === 0) {
        const first = 1 + next(600);
        const last = first + next(20);
        acks.addRange(first, last);
        for (let seq = first; seq <= last; seq += 1) plain.add(seq);
      } else if (choice === 1) {
        watermark = Math.max(watermark, next(300));
        acks.raiseWatermark(watermark);
        for (let seq = 0; seq <= watermark; seq += 1) plain.add(seq);
      } else {
        const seq = 1 + next(600);
        expect(acks.add(seq)).toBe(!plain.has(seq));
        plain.add(seq);
      }
      if (step % 250 === 0) {
        for (let seq = 0; seq <= 700; seq += 1) expect(acks.has(seq)).toBe(plain.has(seq));
        const first = next(650);
        const last = first + next(60);
        let missing = 0;
        for (let seq = first; seq <= last; seq += 1) if (!plain.has(seq)) missing += 1;
        expect(acks.countMissing(first, last)).toBe(missing);
      }
    }
    // Ranges are sorted, disjoint and never touch each other or the watermark.
    let previousEnd = acks.watermark;
    for (const [first, last] of acks.ranges) {
      expect(first).toBeGreaterThan(previousEnd + 1);
      expect(last).toBeGreaterThanOrEqual(first);
      previousEnd = last;
    }
    expect(acks.highest).toBe(Math.max(...plain));
  });

  it('folds in-order acks into the watermark', () => {
    const acks = new AckSet();
    for (const seq of [3, 1, 2, 5, 4]) acks.add(seq);
    expect({ watermark: acks.watermark, ranges: acks.ranges }).toEqual({ watermark: 5, ranges: [] });
    acks.add(9);
    acks.add(7);
    expect({ watermark: acks.watermark, ranges: acks.ranges }).toEqual({
      watermark: 5,
      ranges: [
        [7, 7],
        [9, 9],
      ],
    });
    acks.add(8);
    acks.add(6);
    expect({ watermark: acks.watermark, ranges: acks.ranges }).toEqual({ watermark: 9, ranges: [] });
  });
});
