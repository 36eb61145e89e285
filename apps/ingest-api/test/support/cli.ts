import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));

/** What a command printed and how it exited. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `src/cli/<name>.ts` in a child process with only `PATH` and `env` set; never rejects. */
export function runCli(
  name: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', `src/cli/${name}.ts`, ...args],
      { cwd: packageDir, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The environment that points a command at a test database. */
export function databaseEnv(db: {
  readonly url: string | undefined;
  readonly dataDir: string;
}): Record<string, string> {
  return { DATA_DIR: db.dataDir, ...(db.url === undefined ? {} : { DATABASE_URL: db.url }) };
}
