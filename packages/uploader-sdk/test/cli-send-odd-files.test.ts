import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as test } from './support/cli-fixtures.js';
import { sluice } from './support/cli-run.js';

const KEY = { SLUICE_API_KEY: 'test-key' };

/** The path `parts` joined, as bytes: a string part is UTF-8, a number is one raw byte. */
const bytePath = (...parts: (string | number)[]): Buffer =>
  Buffer.concat(parts.map((part) => (typeof part === 'number' ? Buffer.from([part]) : Buffer.from(part))));

describe('sluice send: files other tools send', () => {
  test('a file modified before 1970 is sent with ts 0, the earliest the server takes; sending it again is a duplicate', async ({
    server,
    dir,
    files,
  }) => {
    const old = join(files, 'old.txt');
    await writeFile(old, 'from the sixties');
    await utimes(old, new Date('1960-01-01T00:00:00Z'), new Date('1960-01-01T00:00:00Z'));
    const send = () => sluice(['send', old, '--endpoint', server.url, '--dir', dir], { env: KEY });
    const first = await send();
    expect(first.code, first.stderr).toBe(0);
    const id = /^stored\t(\S+)\t/m.exec(first.stdout)?.[1];
    expect(id, first.stdout).toBeDefined();
    const rows = await server.query<{ ts: string | number; name: string }>(
      `select i.ts, b.meta->>'name' as name from items i join blobs b using (source, id)
        where i.source = $1 and i.id = $2`,
      [server.source, id],
    );
    expect(rows.map((row) => ({ ts: Number(row.ts), name: row.name }))).toEqual([{ ts: 0, name: 'old.txt' }]);

    const again = await send();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`duplicate\t${id}\t${old}\n`);
  }, 60_000);

  test('files and directories whose names are not UTF-8 are sent, bytes intact, their names with \\xHH for such bytes', async ({
    server,
    dir,
    files,
  }) => {
    const root = join(files, 'names');
    await mkdir(root);
    await writeFile(bytePath(root, '/caf', 0xe9, '.log'), 'latin-1 name');
    await mkdir(bytePath(root, '/sub', 0xff));
    await writeFile(bytePath(root, '/sub', 0xff, '/inner.txt'), 'inside');
    await writeFile(join(root, 'plain.txt'), 'plain');
    const sent = await sluice(['send', root, '--endpoint', server.url, '--dir', dir], { env: KEY });
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stderr).toContain('sending 3 files');
    expect(sent.stdout).toMatch(new RegExp(`^stored\\t\\S+\\t${root}/caf\\\\xE9\\.log$`, 'm'));
    expect(sent.stdout).toMatch(new RegExp(`^stored\\t\\S+\\t${root}/sub\\\\xFF/inner\\.txt$`, 'm'));
    expect(sent.stdout).toContain('3 delivered, 0 dead');
    const rows = await server.query<{ name: string; bytes: Buffer }>(
      `select b.meta->>'name' as name, s.bytes from blobs b join blob_staging s using (source, id)
        where b.source = $1 and b.meta->>'name' like 'names/%' order by 1`,
      [server.source],
    );
    expect(rows.map((row) => `${row.name}=${Buffer.from(row.bytes).toString()}`)).toEqual([
      'names/caf\\xE9.log=latin-1 name',
      'names/plain.txt=plain',
      'names/sub\\xFF/inner.txt=inside',
    ]);
  }, 60_000);
});
