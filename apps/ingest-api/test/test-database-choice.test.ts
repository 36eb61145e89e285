import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { chooseTestDatabase, isCiEnvironment } from '../src/testing.js';

describe('which database the database-backed tests run on', () => {
  it('uses real PostgreSQL whenever it answers, in CI or not', () => {
    expect(chooseTestDatabase({ ci: false, reachable: true })).toBe('postgres');
    expect(chooseTestDatabase({ ci: true, reachable: true })).toBe('postgres');
  });

  it('falls back to PGlite outside CI when no server answers', () => {
    expect(chooseTestDatabase({ ci: false, reachable: false, reason: 'ECONNREFUSED' })).toBe('pglite');
  });

  it('fails in CI when no server answers, naming the URL and the reason', () => {
    expect(() =>
      chooseTestDatabase({
        ci: true,
        reachable: false,
        url: 'postgres://postgres@127.0.0.1:5432/test',
        reason: 'connect ECONNREFUSED',
      }),
    ).toThrow(/CI=true.*postgres:\/\/postgres@127\.0\.0\.1:5432\/test.*ECONNREFUSED/s);
  });

  it('reads CI=true (and 1) as CI, anything else as not', () => {
    expect(isCiEnvironment({ CI: 'true' })).toBe(true);
    expect(isCiEnvironment({ CI: 'TRUE' })).toBe(true);
    expect(isCiEnvironment({ CI: '1' })).toBe(true);
    expect(isCiEnvironment({ CI: 'false' })).toBe(false);
    expect(isCiEnvironment({ CI: '' })).toBe(false);
    expect(isCiEnvironment({})).toBe(false);
  });
});

describe('a test process in CI with no PostgreSQL', () => {
  it('fails to create a test database instead of falling back to PGlite', async () => {
    const script =
      "import { createTestDatabase } from './src/testing.ts';\n" +
      'const db = await createTestDatabase();\n' +
      "console.log('created', db.kind);\n" +
      'await db.drop();\n';
    const run = (ci: string) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        // Port 1: nothing listens there, so the connection is refused at once.
        env: {
          PATH: process.env.PATH ?? '',
          CI: ci,
          TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test',
        },
      }).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    const inCi = await run('true');
    expect(inCi.code).not.toBe(0);
    expect(inCi.stdout).not.toContain('created');
    expect(inCi.stderr).toMatch(
      /CI=true but PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/test did not answer/,
    );
    const local = await run('');
    expect(local.stdout).toContain('created pglite');
  });
});
