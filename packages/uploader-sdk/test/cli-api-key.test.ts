import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as test } from './support/cli-fixtures.js';
import { sluice } from './support/cli-run.js';
import { countsOf } from './support/harness.js';

describe('sluice API key', () => {
  test('a refused key stops send with advice a CLI user can act on; the items stay queued and a later send with a good key delivers them', async ({
    server,
    dir,
    files,
  }) => {
    const file = join(files, 'a.txt');
    await writeFile(file, 'hello');
    const badKey = join(files, 'bad-key');
    await writeFile(badKey, 'not-a-key\n');

    const refused = await sluice([
      'send',
      file,
      '--endpoint',
      server.url,
      '--key-file',
      badKey,
      '--dir',
      dir,
    ]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('the server refused the API key (HTTP 401)');
    expect(refused.stderr).toContain('SLUICE_API_KEY');
    expect(refused.stderr).toContain('--key-file');
    expect(refused.stderr).toContain(
      `1 item stays queued in ${dir}; run \`sluice send --dir ${dir}\` with a good key`,
    );
    expect(refused.stderr).not.toContain('setApiKey');
    expect(refused.stdout).toContain('0 delivered, 0 dead');

    const status = await sluice(['status', '--dir', dir]);
    expect(status.stdout).toMatch(/^blobs\t1 queued\t5 bytes\t/m);

    const retried = await sluice(['send', '--endpoint', server.url, '--dir', dir], {
      env: { SLUICE_API_KEY: 'test-key' },
    });
    expect(retried.code, retried.stderr).toBe(0);
    const id = /^stored\t(\S+)\t\(queued earlier\)$/m.exec(retried.stdout)?.[1];
    expect(id).toBeDefined();
    expect(await countsOf(server, [id!])).toEqual([1]);

    const lookup = await sluice(['status', id!, '--endpoint', server.url, '--key-file', badKey]);
    expect(lookup.code).toBe(1);
    expect(lookup.stderr).toContain('the server refused the API key (HTTP 401)');
  }, 60_000);

  test('the key comes from exactly one place; a missing or empty one is a usage error that says where to put it', async ({
    server,
    dir,
    files,
  }) => {
    const file = join(files, 'a.txt');
    await writeFile(file, 'hello');
    const empty = join(files, 'empty-key');
    await writeFile(empty, '\n');
    const keyFile = join(files, 'key');
    await writeFile(keyFile, 'test-key');
    const [none, both, blank, unreadable] = await Promise.all([
      sluice(['send', file, '--endpoint', server.url, '--dir', dir]),
      sluice([
        'send',
        file,
        '--endpoint',
        server.url,
        '--key',
        'test-key',
        '--key-file',
        keyFile,
        '--dir',
        dir,
      ]),
      sluice(['send', file, '--endpoint', server.url, '--key-file', empty, '--dir', dir]),
      sluice(['send', file, '--endpoint', server.url, '--key-file', join(files, 'nope'), '--dir', dir]),
    ]);
    expect([none.code, both.code, blank.code, unreadable.code]).toEqual([2, 2, 2, 2]);
    expect(none.stderr).toContain('an API key is required: set SLUICE_API_KEY or pass --key-file PATH');
    expect(both.stderr).toContain('one of --key and --key-file, not both');
    expect(blank.stderr).toContain(`--key-file ${empty} is empty`);
    expect(unreadable.stderr).toContain(`cannot read --key-file ${join(files, 'nope')}`);

    // A key no HTTP client can send: a usage error naming where it came from, never printing it.
    const unsendable = join(files, 'unsendable-key');
    await writeFile(unsendable, 'kéy-€-unicode\n');
    const [fromFile, fromEnv, lookup] = await Promise.all([
      sluice(['send', file, '--endpoint', server.url, '--key-file', unsendable, '--dir', dir]),
      sluice(['send', file, '--endpoint', server.url, '--dir', dir], { env: { SLUICE_API_KEY: 'a b c' } }),
      sluice(['status', 'some-id', '--endpoint', server.url, '--key-file', unsendable]),
    ]);
    expect([fromFile.code, fromEnv.code, lookup.code]).toEqual([2, 2, 2]);
    expect(fromFile.stderr).toContain(
      `the key in --key-file ${unsendable} is not up to 1024 printable ASCII`,
    );
    expect(fromEnv.stderr).toContain('the key in SLUICE_API_KEY is not up to 1024 printable ASCII');
    expect(lookup.stderr).toContain('printable ASCII characters without spaces');
    for (const result of [fromFile, fromEnv, lookup]) expect(result.stderr).not.toContain('kéy');
    // Commands that never send it do not judge it; whitespace around a key is not part of it.
    const local = await sluice(['status', '--dir', dir], { env: { SLUICE_API_KEY: 'a b c' } });
    expect(local.code, local.stderr).toBe(0);
    const padded = await sluice(['send', file, '--endpoint', server.url, '--dir', dir], {
      env: { SLUICE_API_KEY: ' test-key\t' },
    });
    expect(padded.code, padded.stderr).toBe(0);
  }, 60_000);
});
