import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, ITEM_ERRORS, MAX_JSON_DEPTH, REQUEST_ERRORS, recordHash } from '../src/index.js';

const page = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

/** The rows of the Markdown table whose header row starts with `| first |`, as arrays of trimmed cells. */
function table(first: string): string[][] {
  const lines = page.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  expect(start, `a table headed "${first}"`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim().replaceAll('`', '')),
    );
  }
  return rows;
}

describe('docs/protocol.md says what the contracts do', () => {
  it('lists every request error code with its HTTP status and retryability', () => {
    const documented = table('code');
    const expected = Object.entries(REQUEST_ERRORS).map(([code, { status, retryable }]) => [
      code,
      String(status),
      retryable ? 'yes' : 'no',
    ]);
    expect(documented).toEqual(expected);
  });

  it('lists every item error code', () => {
    const documented = table('item code');
    expect(documented.map(([code]) => code)).toEqual(Object.keys(ITEM_ERRORS));
    for (const [code, status] of documented) {
      const retryable = ITEM_ERRORS[code as keyof typeof ITEM_ERRORS].retryable;
      expect(status === 'retry', code).toBe(retryable);
    }
  });

  it('gives the default limits', () => {
    const documented = Object.fromEntries(table('limit').map(([name, value]) => [name, Number(value)]));
    expect(documented).toEqual({ ...DEFAULT_LIMITS });
  });

  it('gives a hash test vector that recordHash reproduces', () => {
    const row = table('item')[0];
    expect(row?.[2]).toBe(recordHash({ type: 'click', ts: 1766557428498, data: { x: 1 } }));
  });

  it('states the nesting limit', () => {
    expect(page).toContain(`at most ${MAX_JSON_DEPTH} levels (\`MAX_JSON_DEPTH\`)`);
  });
});
