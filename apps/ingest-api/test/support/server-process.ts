import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));

/** `src/server.ts` running in a child process. */
export interface ServerProcess {
  readonly child: ChildProcess;
  /** The URL it logged, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Everything it printed so far (stdout and stderr). */
  readonly output: () => string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

/** Where {@link spawnServer} runs the server from. */
export interface SpawnOptions {
  /** A built package directory (an artifact of `pnpm deploy:api`) to run `node dist/server.js` in. @default this package's `src/server.ts` through tsx */
  readonly builtIn?: string;
}

/** Spawns the server (port 0 unless `env` says otherwise) with only `PATH` and `env`. */
export function spawnServer(
  env: Record<string, string>,
  options: SpawnOptions = {},
): Omit<ServerProcess, 'url'> {
  const args = options.builtIn === undefined ? ['--import', 'tsx', 'src/server.ts'] : ['dist/server.js'];
  const child = spawn(process.execPath, args, {
    cwd: options.builtIn ?? packageDir,
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return { child, output: () => output, exited };
}

/** Spawns the server and waits until it logs that it listens; throws with its output if it exits first. */
export async function startServerProcess(
  env: Record<string, string>,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const server = spawnServer(env, options);
  const deadline = Date.now() + 90_000;
  for (;;) {
    const match = /listening on (http:\/\/[^\s"]+)/.exec(server.output());
    if (match?.[1] !== undefined) return { ...server, url: match[1].replace('0.0.0.0', '127.0.0.1') };
    if (server.child.exitCode !== null || Date.now() > deadline) {
      server.child.kill('SIGKILL');
      throw new Error(`server did not start:\n${server.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
