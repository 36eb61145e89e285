import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_FILE, type DeadLetter, openDeadLetterStore } from '../src/dead-letter-store.js';
import { UploaderClosedError } from '../src/errors.js';
import { tempDirectory } from './disk-queue-helpers.js';

function letter(n: number, overrides: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id: `item-${n}`,
    kind: 'record',
    type: 'click',
    ts: 1_766_557_428_000 + n,
    reason: { code: 'IDEMPOTENCY_CONFLICT', message: 'stored with a different hash' },
    status: 'conflict',
    deadAt: 1_766_557_429_000 + n,
    item: { type: 'click', ts: 1_766_557_428_000 + n, data: { n } },
    ...overrides,
  };
}

describe('dead-letter store', () => {
  it('keeps letters with their reason across a reopen, oldest first', async () => {
    const directory = join(await tempDirectory(), 'dead-letters');
    const store = await openDeadLetterStore({ directory });
    await Promise.all([store.add([letter(0), letter(1)]), store.add([letter(2)])]);
    await store.add([
      letter(3, { kind: 'blob', status: 'rejected', reason: { code: 'CHECKSUM_MISMATCH', message: 'x' } }),
    ]);
    await store.close();
    await store.close();
    await expect(store.add([letter(4)])).rejects.toBeInstanceOf(UploaderClosedError);

    const reopened = await openDeadLetterStore({ directory });
    expect(await reopened.count()).toBe(4);
    const letters = await reopened.list();
    expect(letters.map((entry) => entry.id)).toEqual(['item-0', 'item-1', 'item-2', 'item-3']);
    expect(letters[3]).toEqual(
      letter(3, { kind: 'blob', status: 'rejected', reason: { code: 'CHECKSUM_MISMATCH', message: 'x' } }),
    );
    await reopened.close();
  });

  it('pages with limit and offset', async () => {
    const directory = await tempDirectory();
    const store = await openDeadLetterStore({ directory });
    await store.add(Array.from({ length: 25 }, (_, n) => letter(n)));
    expect((await store.list({ limit: 10, offset: 20 })).map((entry) => entry.id)).toEqual(
      [20, 21, 22, 23, 24].map((n) => `item-${n}`),
    );
    expect(await store.list({ limit: 0 })).toEqual([]);
    expect((await store.list({ limit: 2 })).map((entry) => entry.id)).toEqual(['item-0', 'item-1']);
    await expect(store.list({ offset: -1 })).rejects.toThrow(/offset/);
    await store.close();
  });

  it('is readable by a read-only reader while the owner writes, and empty when nothing was written', async () => {
    const directory = await tempDirectory();
    const reader = await openDeadLetterStore({ directory, readOnly: true });
    expect(await reader.count()).toBe(0);
    expect(await reader.list()).toEqual([]);
    const store = await openDeadLetterStore({ directory });
    await store.add([letter(0)]);
    expect((await reader.list()).map((entry) => entry.id)).toEqual(['item-0']);
    await expect(reader.add([letter(1)])).rejects.toThrow(/readOnly/);
    await store.close();
    await reader.close();
  });

  it('skips a line torn by a crash and starts the next letter on a line of its own', async () => {
    const directory = await tempDirectory();
    const store = await openDeadLetterStore({ directory });
    await store.add([letter(0)]);
    await store.close();
    const path = join(directory, DEAD_LETTER_FILE);
    await appendFile(path, JSON.stringify(letter(1)).slice(0, 40));

    const reopened = await openDeadLetterStore({ directory });
    await reopened.add([letter(2)]);
    expect((await reopened.list()).map((entry) => entry.id)).toEqual(['item-0', 'item-2']);
    expect(await reopened.count()).toBe(2);
    expect((await readFile(path, 'utf8')).split('\n')).toHaveLength(4);
    await reopened.close();
  });
});
