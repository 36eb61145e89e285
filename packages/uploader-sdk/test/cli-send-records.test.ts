import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { MAX_RECORD_LINE_BYTES } from '../src/cli/record-line.js';
import { cliTest as test } from './support/cli-fixtures.js';
import { sluice } from './support/cli-run.js';

interface StoredRecord {
  readonly id: string;
  readonly type: string;
  readonly ts: number | string;
  readonly data: unknown;
  readonly n: number;
}

async function storedRecords(
  server: { query: <T>(sql: string, params?: unknown[]) => Promise<T[]>; source: string },
  prefix: string,
) {
  return server.query<StoredRecord>(
    `select id, type, ts, data, count(*) over (partition by id)::int as n from items
      where source = $1 and kind = 'record' and id like $2 order by id`,
    [server.source, `${prefix}%`],
  );
}

describe('sluice send --records', () => {
  test('sends each good line of an NDJSON file as a record; bad lines are reported by line number and exit 3', async ({
    server,
    dir,
    files,
  }) => {
    const input = join(files, 'events.ndjson');
    await writeFile(
      input,
      [
        '{"id":"file-1","type":"click","ts":1766557428498,"data":{"x":1}}',
        '',
        '{"id":"file-2","type":"Order Completed","data":null}',
        '{"id":"file-3","type":"click",', // not JSON
        '[1,2]', // not an object
        '{"id":"file-4","type":"click","timestamp":5,"data":1}', // unknown field
        '{"id":"file-5","type":"click","data":1,"ts":-1}', // refused by enqueue
        '{"id":"file-6","type":"view","data":[1,"two"]}',
      ].join('\n'),
    );
    const sent = await sluice(['send', '--records', input, '--endpoint', server.url, '--dir', dir], {
      env: { SLUICE_API_KEY: 'test-key' },
    });
    expect(sent.code, sent.stderr).toBe(3);
    expect(sent.stderr).toContain(`${input}:4: not JSON`);
    expect(sent.stderr).toContain(`${input}:5: expected a JSON object`);
    expect(sent.stderr).toContain(`${input}:6: unknown field "timestamp"`);
    expect(sent.stderr).toContain(`${input}:7: Expected \`ts\` to be integer epoch milliseconds`);
    expect(sent.stdout).toContain('3 delivered, 0 dead, 4 bad lines');
    const rows = await storedRecords(server, 'file-');
    expect(rows.map(({ id, type, data, n }) => ({ id, type, data, n }))).toEqual([
      { id: 'file-1', type: 'click', data: { x: 1 }, n: 1 },
      { id: 'file-2', type: 'Order Completed', data: null, n: 1 },
      { id: 'file-6', type: 'view', data: [1, 'two'], n: 1 },
    ]);
    expect(Number(rows[0]!.ts)).toBe(1766557428498);

    // Sending the same lines again changes nothing: they carry their ids.
    const again = await sluice(['send', '--records', input, '--endpoint', server.url, '--dir', dir], {
      env: { SLUICE_API_KEY: 'test-key' },
    });
    expect(again.code).toBe(3);
    expect((await storedRecords(server, 'file-')).map((row) => row.n)).toEqual([1, 1, 1]);
  }, 60_000);

  test('reads records from stdin with -, many lines, each stored once; the key comes from --key-file', async ({
    server,
    dir,
    files,
  }) => {
    const keyFile = join(files, 'key');
    await writeFile(keyFile, 'test-key\n', { mode: 0o600 });
    const lines = Array.from({ length: 2000 }, (_, i) =>
      JSON.stringify({ id: `stdin-${i}`, type: 'tick', data: { i } }),
    );
    const sent = await sluice(
      ['send', '--records', '-', '--endpoint', server.url, '--key-file', keyFile, '--dir', dir],
      {
        input: `${lines.join('\n')}\n`,
      },
    );
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain('2000 delivered, 0 dead');
    const rows = await storedRecords(server, 'stdin-');
    expect(rows).toHaveLength(2000);
    expect(rows.every((row) => row.n === 1)).toBe(true);
  }, 60_000);

  test('refuses a line that is not UTF-8 or longer than the line limit, by line number, without storing a mangled record', async ({
    server,
    dir,
    files,
  }) => {
    const input = join(files, 'mixed.ndjson');
    const line = (id: string, data: unknown) =>
      Buffer.from(`${JSON.stringify({ id, type: 'utf8', data })}\n`);
    await writeFile(
      input,
      Buffer.concat([
        line('utf8-1', 'café'),
        // "caf\xe9": Latin-1, not UTF-8; decoding it leniently would store "caf\ufffd"
        Buffer.concat([
          Buffer.from('{"id":"utf8-2","type":"utf8","data":"caf'),
          Buffer.from([0xe9]),
          Buffer.from('"}\r\n'),
        ]),
        line('utf8-3', 'x'.repeat(MAX_RECORD_LINE_BYTES + 10)),
        line('utf8-4', 'ok'),
        Buffer.from('{"id":"utf8-5","type":"utf8","data":"last, unterminated"}'),
      ]),
    );
    const sent = await sluice(['send', '--records', input, '--endpoint', server.url, '--dir', dir], {
      env: { SLUICE_API_KEY: 'test-key' },
    });
    expect(sent.code, sent.stderr).toBe(3);
    expect(sent.stderr).toContain(`${input}:2: not valid UTF-8`);
    expect(sent.stderr).toContain(`${input}:3: longer than ${MAX_RECORD_LINE_BYTES} bytes`);
    expect(sent.stdout).toContain('3 delivered, 0 dead, 2 bad lines');
    const rows = await storedRecords(server, 'utf8-');
    expect(rows.map(({ id, data }) => ({ id, data }))).toEqual([
      { id: 'utf8-1', data: 'café' },
      { id: 'utf8-4', data: 'ok' },
      { id: 'utf8-5', data: 'last, unterminated' },
    ]);
  }, 60_000);
});
