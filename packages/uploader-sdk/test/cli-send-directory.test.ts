import { randomBytes } from 'node:crypto';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as test } from './support/cli-fixtures.js';
import { sluice } from './support/cli-run.js';

interface StoredBlob {
  readonly name: string;
  readonly size: number;
  readonly content_type: string;
  readonly bytes: Buffer;
  readonly copies: number;
}

describe('sluice send DIR', () => {
  test('walks the directory and uploads every file exactly once, bytes intact; leaves out hidden entries and symbolic links', async ({
    server,
    dir,
    files,
  }) => {
    const root = join(files, 'photos');
    const written = new Map<string, Buffer>([
      ['photos/a.png', randomBytes(70_000)],
      ['photos/empty.txt', Buffer.alloc(0)],
      ['photos/nested/deeper/b.bin', randomBytes(1234)],
      ['photos/nested/c.json', Buffer.from('{"c":1}')],
    ]);
    for (const [name, bytes] of written) {
      await mkdir(join(files, name, '..'), { recursive: true });
      await writeFile(join(files, name), bytes);
    }
    await writeFile(join(root, '.hidden'), 'secret');
    await mkdir(join(root, '.cache'));
    await writeFile(join(root, '.cache', 'x'), 'cached');
    await symlink(join(root, 'a.png'), join(root, 'link-to-a.png'));
    await symlink(root, join(root, 'nested', 'loop'));

    const sent = await sluice(['send', root, '--endpoint', server.url, '--dir', dir], {
      env: { SLUICE_API_KEY: 'test-key' },
    });

    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stderr).toContain(
      'sending 4 files (71.2 kB); skipped 2 symbolic links, 2 hidden (--hidden sends them)\n',
    );
    const lines = sent.stdout.split('\n').filter((line) => line.startsWith('stored\t'));
    expect(lines.map((line) => basename(line.split('\t')[2]!)).sort()).toEqual([
      'a.png',
      'b.bin',
      'c.json',
      'empty.txt',
    ]);
    expect(sent.stdout).toContain('4 delivered, 0 dead');

    const stored = await server.query<StoredBlob>(
      `select b.meta->>'name' as name, b.size, b.content_type, s.bytes,
              (select count(*)::int from items i where i.source = b.source and i.id = b.id) as copies
         from blobs b join blob_staging s using (source, id)
        where b.source = $1 and b.meta->>'name' like 'photos/%' order by 1`,
      [server.source],
    );
    expect(stored.map((row) => row.name)).toEqual([...written.keys()].sort());
    for (const row of stored) {
      expect(row.copies).toBe(1);
      expect(Number(row.size)).toBe(written.get(row.name)!.byteLength);
      expect(Buffer.from(row.bytes).equals(written.get(row.name)!), row.name).toBe(true);
    }
    expect(stored.find((row) => row.name === 'photos/a.png')?.content_type).toBe('image/png');
    // Nothing is left queued or copied.
    expect(await readdir(join(dir, 'blob-data'))).toEqual([]);
  }, 60_000);

  test('--hidden sends hidden entries too; a missing path fails before anything is queued', async ({
    server,
    dir,
    files,
  }) => {
    await writeFile(join(files, '.env'), 'A=1');
    await writeFile(join(files, 'visible'), 'v');
    const missing = await sluice(
      ['send', files, join(files, 'nope'), '--endpoint', server.url, '--dir', dir],
      {
        env: { SLUICE_API_KEY: 'test-key' },
      },
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `cannot read ${join(files, 'nope')}: no such file or directory; nothing was queued`,
    );

    const sent = await sluice(['send', files, '--hidden', '--endpoint', server.url, '--dir', dir], {
      env: { SLUICE_API_KEY: 'test-key' },
    });
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain('2 delivered, 0 dead');
    const names = await server.query<{ name: string }>(
      `select meta->>'name' as name from blobs where source = $1 and meta->>'name' like $2 order by 1`,
      [server.source, `${basename(files)}/%`],
    );
    expect(names.map((row) => row.name)).toEqual([`${basename(files)}/.env`, `${basename(files)}/visible`]);
  }, 60_000);

  test('a file the server could never take is refused and reported; the others still go, and the exit status is 3', async ({
    server,
    dir,
    files,
  }) => {
    await writeFile(join(files, 'small.txt'), 'small');
    // One byte above the contract's default blob size limit.
    await writeFile(join(files, 'huge.bin'), Buffer.alloc(32 * 1024 * 1024 + 1));
    const sent = await sluice(['send', files, '--endpoint', server.url, '--dir', dir], {
      env: { SLUICE_API_KEY: 'test-key' },
    });
    expect(sent.code, sent.stderr).toBe(3);
    expect(sent.stdout).toMatch(new RegExp(`^refused\t-\t${join(files, 'huge.bin')}\t.+$`, 'm'));
    expect(sent.stdout).toMatch(new RegExp(`^stored\t\\S+\t${join(files, 'small.txt')}$`, 'm'));
    expect(sent.stdout).toContain('1 delivered, 0 dead, 1 refused\n');
  }, 60_000);

  test('sending the same directory again stores nothing twice; a file written since is sent anew', async ({
    server,
    dir,
    files,
  }) => {
    const root = join(files, 'again');
    await mkdir(root);
    await writeFile(join(root, 'a.txt'), 'first a');
    await writeFile(join(root, 'b.txt'), 'first b');
    const send = () =>
      sluice(['send', root, '--endpoint', server.url, '--dir', dir], { env: { SLUICE_API_KEY: 'test-key' } });
    const first = await send();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.match(/^stored\t/gm)).toHaveLength(2);

    const second = await send();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('2 delivered, 0 dead');
    expect(second.stdout).not.toMatch(/^stored\t/m);
    expect(second.stdout.match(/^duplicate\t/gm)).toHaveLength(2);

    await writeFile(join(root, 'b.txt'), 'second b');
    const third = await send();
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout.match(/^stored\t/gm)).toHaveLength(1);
    expect(third.stdout).toMatch(/^stored\t\S+\t.*b\.txt$/m);

    const rows = await server.query<{ name: string; bytes: Buffer }>(
      `select b.meta->>'name' as name, s.bytes from blobs b join blob_staging s using (source, id)
        where b.source = $1 and b.meta->>'name' like 'again/%' order by 1, 2`,
      [server.source],
    );
    expect(rows.map((row) => `${row.name}=${Buffer.from(row.bytes).toString()}`)).toEqual([
      'again/a.txt=first a',
      'again/b.txt=first b',
      'again/b.txt=second b',
    ]);
  }, 60_000);
});
