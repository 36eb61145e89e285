import { writeFile } from 'node:fs/promises';
import { describe, expect } from 'vitest';
import { tailFile } from '../src/index.js';
import { waitFor } from './support/harness.js';
import { expectStoredExactly, test } from './support/tail-fixture.js';
import { appLog, lines, storedLineTexts, waitCaughtUp } from './support/tail-harness.js';

const fast = { pollIntervalMs: 20, rotateWaitMs: 200, checkpointIntervalMs: 20 };

/** A valid JSON line of exactly `bytes` bytes (ASCII), distinct by `name`. */
function jsonLine(name: string, bytes: number): string {
  const start = `{"name":"${name}","pad":"`;
  const line = `${start}${'p'.repeat(bytes - start.length - 2)}"}`;
  expect(Buffer.byteLength(line)).toBe(bytes);
  return line;
}

// With `json: true` a record's data holds the line twice (`line`, and parsed as `json`): a valid JSON line
// of 32,750 bytes (under the default maxLineBytes, so not split) made 65,574 bytes of data, over the
// server's 64 KiB, and was dead-lettered UNSENDABLE, while a line 20 bytes longer was split and delivered.
// Numbers written short (`1e20`) grow too once parsed. Every line the options accept is now shipped: a JSON
// line whose record would be too big with `json` is shipped as its text, flagged `jsonTooLarge`.
describe('json lines near the data size limit', () => {
  test('ships every line: json when the record fits, the text flagged otherwise, never a dead letter', async ({
    server,
    cleanup,
    uploader,
  }) => {
    const fits = jsonLine('fits', 32_000);
    const over = jsonLine('over', 32_750);
    const atMax = jsonLine('at-max', 32_768);
    const split = jsonLine('split', 32_790);
    const grows = `[${Array.from({ length: 3000 }, () => '1e20').join(',')}]`;
    const small = '{"name":"small"}';
    const { path } = await appLog();
    const tail = tailFile(path, { uploader, ...fast, json: true });
    cleanup.add(() => tail.stop());
    await writeFile(path, lines([small, fits, over, atMax, split, grows]));
    const pieces = [split.slice(0, 32_768), split.slice(32_768)];
    await expectStoredExactly(server, [small, fits, over, atMax, ...pieces, grows], 10_000);
    const rows = await server.query<{ data: Record<string, unknown> }>(
      'select data from items where source = $1',
      [server.source],
    );
    const byLine = new Map(rows.map((row) => [row.data.line as string, row.data]));
    expect(byLine.get(small)?.json).toEqual({ name: 'small' });
    expect(byLine.get(fits)?.json).toEqual(JSON.parse(fits));
    expect(byLine.get(fits)?.jsonTooLarge).toBeUndefined();
    for (const line of [over, atMax, grows]) {
      expect(byLine.get(line)?.json).toBeUndefined();
      expect(byLine.get(line)?.jsonTooLarge).toBe(true);
    }
    expect(byLine.get(pieces[0]!)?.truncated).toBe(true);
    expect(tail.stats().dead).toBe(0);
    expect(await uploader.deadLetters()).toEqual([]);
  });
});

// Not only with json: maxLineBytes bounds a line's bytes, but JSON writes a quote or backslash as 2 bytes
// and a control character as up to 6, so a line the options accept could be over 64 KiB as data and was
// dead-lettered UNSENDABLE. Such a line is now sent in parts that fit, in order, each flagged truncated.
describe('lines too large once JSON-escaped', () => {
  test('are sent in parts that fit, never dead-lettered', async ({ server, cleanup, uploader }) => {
    const quotes = '"'.repeat(32_768);
    const controls = `ctl${'\u0001'.repeat(12_000)}end`;
    const first = 'escaped-parts-first';
    const last = 'escaped-parts-last';
    const { path } = await appLog();
    const tail = tailFile(path, { uploader, ...fast });
    cleanup.add(() => tail.stop());
    await writeFile(path, lines([first, quotes, controls, last]));
    await waitFor(async () => (await storedLineTexts(server)).includes(last), 10_000);
    await waitCaughtUp(tail);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rows = await server.query<{ id: string; data: Record<string, unknown> }>(
      'select id, data from items where source = $1',
      [server.source],
    );
    const byOffset = new Map<number, { id: string; data: Record<string, unknown> }[]>();
    for (const row of rows) {
      expect(Buffer.byteLength(JSON.stringify(row.data))).toBeLessThanOrEqual(65_536);
      const offset = row.data.offset as number;
      byOffset.set(offset, [...(byOffset.get(offset) ?? []), row]);
    }
    const offsets = [...byOffset.keys()].sort((a, b) => a - b);
    const texts = offsets.map((offset) => {
      const parts = byOffset.get(offset)!.sort((a, b) => Number(a.data.part ?? 0) - Number(b.data.part ?? 0));
      if (parts.length > 1) {
        expect(parts.map((row) => row.data.part)).toEqual(parts.map((_, index) => index));
        expect(parts.every((row) => row.data.truncated === true)).toBe(true);
        expect(parts.map((row) => row.id)).toEqual(
          parts.map((_, index) => `${parts[0]!.id.replace(/\.0$/, '')}.${index}`),
        );
      }
      return parts.map((row) => row.data.line).join('');
    });
    expect(texts).toEqual([first, quotes, controls, last]);
    expect(byOffset.get(offsets[1]!)!.length).toBeGreaterThan(1);
    expect(byOffset.get(offsets[2]!)!.length).toBeGreaterThan(1);
    expect(tail.stats().dead).toBe(0);
    expect(await uploader.deadLetters()).toEqual([]);
  });
});
